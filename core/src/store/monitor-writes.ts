import type { Kysely } from 'kysely';
import { chatLogValues, pingValues, systemSampleValues } from './record-mappers.js';
import type { RowContext } from './record-mappers.js';
import type { Database } from './schema.js';
import type { InsertRows } from './sqlite-statements.js';
import type { ChatLogRow, PingRow, RetentionTable, SystemSampleRow } from './types.js';

/**
 * The write-mostly side of the store: chat log, pings, system samples, retention. A batch of
 * rows is written atomically (one fsync on SQLite, one commit on MySQL) by an InsertRows: on
 * MySQL one multi-row INSERT per batch (multi-row-insert.ts, `multiRowInsert`); on SQLite a reused
 * prepared single-row INSERT per row in one transaction (sqlite-statements.ts; measured faster
 * than a multi-row INSERT there: 3.6-5.7 vs 4.8-7.4 µs per row for batches of 200-2,000).
 */

export type { InsertRows, InsertTable } from './sqlite-statements.js';
export { multiRowInsert } from './multi-row-insert.js';

export function insertChatLogs(insert: InsertRows, rows: readonly ChatLogRow[], ctx: RowContext): Promise<void> {
  return insert('kb_chat_logs', rows.map((row) => chatLogValues(row, ctx)));
}

export function insertPings(insert: InsertRows, rows: readonly PingRow[], ctx: RowContext): Promise<void> {
  return insert('kb_ping_monitor', rows.map((row) => pingValues(row, ctx)));
}

export function insertSystemSamples(insert: InsertRows, rows: readonly SystemSampleRow[], ctx: RowContext): Promise<void> {
  return insert('kb_system_monitor', rows.map((row) => systemSampleValues(row, ctx)));
}

/**
 * Two bounded statements instead of `DELETE ... LIMIT` (MySQL only) or a subquery on the table
 * being deleted from (MySQL refuses both `LIMIT` in `IN (...)` and that self-reference). The
 * select walks the primary key, where the oldest rows are, so it needs no index on created_at.
 */
export async function deleteOlderThan(db: Kysely<Database>, table: RetentionTable, before: string, limit: number): Promise<number> {
  const rows = await db.selectFrom(table).select('id').where('created_at', '<', before).orderBy('id').limit(limit).execute();
  if (rows.length === 0) return 0;
  const result = await db.deleteFrom(table).where('id', 'in', rows.map((r) => r.id)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
