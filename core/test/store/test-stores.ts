import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { parseStoreUrl } from '../../src/store/store-url.js';

/**
 * Which stores the shared store suite runs against. `BOTBRIDGE_TEST_STORES` is a comma-separated
 * list of store URLs; the token `sqlite:tmp` (the default) means a fresh SQLite file in a temp
 * directory for every test. Any other URL is used as is and shared by all tests, which is why
 * every test works under its own random bot name instead of relying on empty tables.
 */
export const SQLITE_TMP = 'sqlite:tmp';

export function testStoreSpecs(): string[] {
  const raw = process.env.BOTBRIDGE_TEST_STORES ?? SQLITE_TMP;
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export interface TestStoreLocation {
  readonly url: string;
  cleanup(): void;
}

export function materialiseStoreSpec(spec: string): TestStoreLocation {
  if (spec !== SQLITE_TMP) return { url: spec, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'botbridge-store-'));
  return { url: `sqlite:${join(dir, 'bridge.db')}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function uniqueBotName(): string {
  return `bot-${randomUUID().slice(0, 8)}`;
}

/** A raw connection for checking what really landed in the tables. */
export function openInspector(url: string): Kysely<Database> {
  const target = parseStoreUrl(url);
  if (target.kind === 'sqlite') return openSqliteDatabase(target.path);
  throw new Error(`no test inspector for ${target.kind} yet: add it with the MySQL store`);
}
