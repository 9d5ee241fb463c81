import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { StoreDialect } from './schema.js';

/**
 * Reads the shape of the tables as they really are. Operators' MySQL databases hold kb_* tables
 * created by the old server and its PHP admin, in several historical versions (columns missing,
 * other keys, DATETIME where botbridge would use BIGINT), so migrations and writes look before
 * they touch. Dialect-specific, like the rest of the migration code.
 */

export interface IndexShape {
  readonly name: string;
  readonly unique: boolean;
  /** Key columns in index order. */
  readonly columns: readonly string[];
}

/**
 * Column name -> lower-case data type (`varchar`, `datetime`, `bigint`, ...) of one table; empty
 * when the table does not exist. One table at a time: an operator's database may hold hundreds
 * of other tables (the PHP admin's own).
 */
export async function readTableColumns(db: Kysely<any>, dialect: StoreDialect, table: string): Promise<Map<string, string>> {
  const { rows } = dialect === 'mysql'
    ? await sql<{ name: string; type: string }>`select column_name as name, data_type as type from information_schema.columns
        where table_schema = database() and table_name = ${table}`.execute(db)
    : await sql<{ name: string; type: string }>`select name, type from pragma_table_info(${table})`.execute(db);
  return new Map(rows.map((r) => [r.name, String(r.type).toLowerCase()]));
}

export async function readIndexes(db: Kysely<any>, dialect: StoreDialect, table: string): Promise<IndexShape[]> {
  if (dialect === 'mysql') {
    const { rows } = await sql<{ index_name: string; non_unique: number | string; column_name: string }>`
      select index_name, non_unique, column_name from information_schema.statistics
      where table_schema = database() and table_name = ${table}
      order by index_name, seq_in_index`.execute(db);
    const byName = new Map<string, { unique: boolean; columns: string[] }>();
    for (const row of rows) {
      const entry = byName.get(row.index_name) ?? { unique: Number(row.non_unique) === 0, columns: [] };
      entry.columns.push(row.column_name);
      byName.set(row.index_name, entry);
    }
    return [...byName].map(([name, { unique, columns }]) => ({ name, unique, columns }));
  }
  const list = await sql<{ name: string; unique: number }>`select name, "unique" from pragma_index_list(${table})`.execute(db);
  const out: IndexShape[] = [];
  for (const index of list.rows) {
    const info = await sql<{ name: string }>`select name from pragma_index_info(${index.name}) order by seqno`.execute(db);
    out.push({ name: index.name, unique: Number(index.unique) === 1, columns: info.rows.map((r) => r.name) });
  }
  return out;
}

/** DATETIME, TIMESTAMP and DATE columns take wall-clock strings, not epoch numbers. */
export function isDateType(dataType: string | undefined): boolean {
  return dataType !== undefined && /^(datetime|timestamp|date)\b/.test(dataType);
}

/** A key that makes `columns` unique: a unique index over a subset of them. */
export function hasUniqueKeyWithin(indexes: readonly IndexShape[], columns: readonly string[]): boolean {
  return indexes.some((i) => i.unique && i.columns.length > 0 && i.columns.every((c) => columns.includes(c)));
}

/** An index usable for lookups on `columns`: one whose leading columns are exactly these. */
export function hasIndexLeadingWith(indexes: readonly IndexShape[], columns: readonly string[]): boolean {
  return indexes.some((i) => columns.every((c, n) => i.columns[n] === c));
}
