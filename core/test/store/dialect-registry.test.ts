import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../src/errors.js';
import { mysqlDialect } from '../../src/store/dialects/mysql.js';
import { dialectFor, findDialect, KNOWN_DIALECTS, parseStoreUrl } from '../../src/store/dialects/registry.js';
import { sqliteDialect } from '../../src/store/dialects/sqlite.js';
import { isStoreUnavailable } from '../../src/store/store-errors.js';
import { createTestDatabase, supportsTestDatabase } from '../../src/store/test-database.js';

function thrown(fn: () => unknown): BridgeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BridgeError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('dialect registry', () => {
  it('picks the dialect a store URL names by its scheme, whatever its case and surrounding spaces', () => {
    expect(dialectFor('sqlite:./data/botbridge.db')).toBe(sqliteDialect);
    expect(dialectFor('SQLite::memory:')).toBe(sqliteDialect);
    expect(dialectFor('mysql://u:p@h:3306/db')).toBe(mysqlDialect);
    expect(dialectFor('  mariadb://u@h/db  ')).toBe(mysqlDialect);
    expect(dialectFor('MYSQL://u@h/db')).toBe(mysqlDialect);
    // The target a dialect parses carries its name, which is also the store's `dialect`.
    expect(parseStoreUrl('sqlite::memory:').kind).toBe(sqliteDialect.name);
    expect(parseStoreUrl('mariadb://u@h/db').kind).toBe(mysqlDialect.name);
  });

  it('refuses an unknown scheme with BRIDGE_ERR_STORE_URL naming the accepted forms, never the password', () => {
    for (const url of ['postgres://u:hunter2@h/db', 'mysqlx://u:hunter2@h/db', 'sqlite-file.db', '', 'file:./x.db']) {
      expect(findDialect(url)).toBeUndefined();
      const error = thrown(() => dialectFor(url));
      expect(error.code).toBe('BRIDGE_ERR_STORE_URL');
      expect(error.message).toContain('expected sqlite:PATH or mysql://user:password@host:port/database');
      expect(error.message).not.toContain('hunter2');
      expect(thrown(() => parseStoreUrl(url)).code).toBe('BRIDGE_ERR_STORE_URL');
    }
  });

  it('has one dialect per name, each recognising only its own URLs', () => {
    const names = KNOWN_DIALECTS.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    expect(sqliteDialect.recognises('mysql://u@h/db')).toBe(false);
    expect(mysqlDialect.recognises('sqlite:mysql://x')).toBe(false);
  });

  it('lets each dialect classify only its own driver errors', () => {
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const gone = Object.assign(new Error('gone away'), { errno: 2006, sqlState: 'HY000' });
    expect(sqliteDialect.isUnavailable(busy)).toBe(true);
    expect(mysqlDialect.isUnavailable(busy)).toBeUndefined();
    expect(mysqlDialect.isUnavailable(gone)).toBe(true);
    expect(sqliteDialect.isUnavailable(gone)).toBeUndefined();
    // Neither driver's: counted as unavailable (fail closed).
    expect(isStoreUnavailable(Object.assign(new Error('odd'), { code: 'EWHATEVER' }))).toBe(true);
  });

  it('creates test databases only where the dialect can', async () => {
    expect(supportsTestDatabase('mysql://root@127.0.0.1/bbtest')).toBe(true);
    expect(supportsTestDatabase('sqlite::memory:')).toBe(false);
    expect(supportsTestDatabase('postgres://h/db')).toBe(false);
    await expect(createTestDatabase('sqlite::memory:')).rejects.toMatchObject({ code: 'BRIDGE_ERR_STORE_URL' });
    await expect(createTestDatabase('postgres://u:hunter2@h/db')).rejects.toMatchObject({ code: 'BRIDGE_ERR_STORE_URL' });
  });
});
