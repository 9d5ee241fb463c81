import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { parseStoreUrl } from '../../src/store/dialects/registry.js';
import { createTestDatabase, supportsTestDatabase } from '../../src/store/test-database.js';

/**
 * Which stores the shared store suite runs against. `BOTBRIDGE_TEST_STORES` is a comma-separated
 * list of store specs; by default `sqlite:tmp` (a fresh SQLite file in a temp directory for
 * every test), plus the MySQL server of `BOTBRIDGE_TEST_STORE` when that is a `mysql://` URL
 * (`npm run test:mysql`). A MySQL spec names a server and a database prefix: every test gets a
 * fresh database `<prefix>_<random>`, dropped after it. Tests still work under random bot names.
 */
export const SQLITE_TMP = 'sqlite:tmp';

/** The MySQL server URL the MySQL-only tests use, or undefined when they are skipped. */
export function mysqlTestServer(): string | undefined {
  const url = process.env.BOTBRIDGE_TEST_STORE;
  return url !== undefined && supportsTestDatabase(url) ? url : undefined;
}

export function testStoreSpecs(): string[] {
  const mysql = mysqlTestServer();
  const raw = process.env.BOTBRIDGE_TEST_STORES ?? (mysql === undefined ? SQLITE_TMP : `${SQLITE_TMP},${mysql}`);
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export interface TestStoreLocation {
  readonly url: string;
  cleanup(): Promise<void>;
}

export async function materialiseStoreSpec(spec: string): Promise<TestStoreLocation> {
  if (supportsTestDatabase(spec)) {
    const database = await createTestDatabase(spec);
    return { url: database.url, cleanup: () => database.drop() };
  }
  if (spec !== SQLITE_TMP) return { url: spec, cleanup: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'botbridge-store-'));
  return { url: `sqlite:${join(dir, 'bridge.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

export function uniqueBotName(): string {
  return `bot-${randomUUID().slice(0, 8)}`;
}

/** A raw connection for checking what really landed in the tables (and for writing as another program would). */
export function openInspector(url: string): Kysely<Database> {
  const target = parseStoreUrl(url);
  if (target.kind === 'sqlite') return openSqliteDatabase(target.path);
  const pool = createPool({
    host: target.host, port: target.port, user: target.user, password: target.password, database: target.database,
    dateStrings: true, supportBigNumbers: true, connectionLimit: 2, charset: 'utf8mb4_unicode_ci',
  });
  return new Kysely<Database>({ dialect: new MysqlDialect({ pool }) });
}
