import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteDialect } from '../../src/store/dialects/sqlite.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import type { Database } from '../../src/store/schema.js';
import { sqliteInsertRows, StatementCache } from '../../src/store/sqlite-statements.js';

describe('SQLite statement cache', () => {
  let database: BetterSqlite3.Database;
  beforeEach(() => {
    database = new BetterSqlite3(':memory:');
    database.exec('create table t (n integer)');
  });
  afterEach(() => {
    if (database.open) database.close();
  });

  it('hands out the same prepared statement for the same SQL text', () => {
    const cache = new StatementCache(database);
    const a = cache.prepare('select n from t where n = ?');
    expect(cache.prepare('select n from t where n = ?')).toBe(a);
    expect(cache.prepare('select n from t where n > ?')).not.toBe(a);
    expect(cache.size).toBe(2);
  });

  it('keeps at most `max` statements, dropping the least recently used', () => {
    const cache = new StatementCache(database, 2);
    const one = cache.prepare('select 1');
    const two = cache.prepare('select 2');
    expect(cache.prepare('select 1')).toBe(one); // now the most recent
    cache.prepare('select 3'); // drops `select 2`
    expect(cache.size).toBe(2);
    expect(cache.prepare('select 1')).toBe(one);
    expect(cache.prepare('select 2')).not.toBe(two);
  });

  it('does not hand out a statement that is still being iterated', () => {
    database.exec('insert into t values (1), (2)');
    const cache = new StatementCache(database);
    const first = cache.prepare('select n from t');
    const iterator = first.iterate();
    iterator.next();
    const second = cache.prepare('select n from t');
    expect(second).not.toBe(first);
    expect(second.all()).toEqual([{ n: 1 }, { n: 2 }]);
    iterator.return?.();
  });

  it('close() closes the database', () => {
    const cache = new StatementCache(database);
    cache.prepare('select 1');
    cache.close();
    expect(database.open).toBe(false);
    expect(cache.size).toBe(0);
  });
});

describe('sqliteInsertRows', () => {
  let dir: string;
  let statements: StatementCache;
  let db: Kysely<Database>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'botbridge-sqlite-insert-'));
    statements = new StatementCache(new BetterSqlite3(join(dir, 'bridge.db')));
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
    await migrateToLatest(db, sqliteDialect);
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const sample = (server: string, cpu: number | null | undefined) => ({
    server_name: server, cpu_percent: cpu, memory_total: 1, memory_used: 2, memory_percent: 3,
    disk_usage_percent: 4, active_connections: 5, message_queue_size: 6, created_at: '2026-01-02 03:04:05.006',
  });
  const stored = () => db.selectFrom('kb_system_monitor').select(['server_name', 'cpu_percent', 'message_queue_size']).orderBy('id').execute();

  it('writes every row in order, each column bound to its value, one prepared statement for all', async () => {
    const insert = sqliteInsertRows(db, statements);
    const before = statements.size;
    await insert('kb_system_monitor', [sample('a', 1.5), sample('b', null), sample('c', 3)]);
    await insert('kb_system_monitor', [sample('d', 4)]);
    await insert('kb_system_monitor', []);
    expect(await stored()).toEqual([
      { server_name: 'a', cpu_percent: 1.5, message_queue_size: 6 },
      { server_name: 'b', cpu_percent: null, message_queue_size: 6 },
      { server_name: 'c', cpu_percent: 3, message_queue_size: 6 },
      { server_name: 'd', cpu_percent: 4, message_queue_size: 6 },
    ]);
    // One INSERT statement prepared for the table and column list (the select above adds one more).
    expect(statements.size - before).toBe(2);
  });

  it('a row with an undefined value leaves that column to its default, as Kysely does', async () => {
    const insert = sqliteInsertRows(db, statements);
    await insert('kb_system_monitor', [sample('a', 1), sample('b', undefined), sample('c', 3)]);
    expect((await stored()).map((r) => [r.server_name, r.cpu_percent])).toEqual([['a', 1], ['b', null], ['c', 3]]);
  });

  it('a refused row rolls back its whole batch and rejects with the SQLite error', async () => {
    const insert = sqliteInsertRows(db, statements);
    const bad = { ...sample('bad', 1), server_name: null };
    await expect(insert('kb_system_monitor', [sample('a', 1), bad as never, sample('c', 3)])).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
    expect(await stored()).toEqual([]);
    await insert('kb_system_monitor', [sample('after', 1)]);
    expect((await stored()).map((r) => r.server_name)).toEqual(['after']);
  });

  it('waits for a Kysely transaction in progress instead of becoming part of it', async () => {
    const insert = sqliteInsertRows(db, statements);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const transaction = db.transaction().execute(async (trx) => {
      await trx.insertInto('kb_system_monitor').values(sample('rolled back', 0)).execute();
      entered();
      await held;
      throw new Error('roll back');
    }).catch(() => 'rolled back');
    await inside;
    const batch = insert('kb_system_monitor', [sample('kept', 1)]);
    release();
    expect(await transaction).toBe('rolled back');
    await batch;
    expect((await stored()).map((r) => r.server_name)).toEqual(['kept']);
  });
});
