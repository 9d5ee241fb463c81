import { sql } from 'kysely';
import type { ColumnDataType, Expression, Kysely } from 'kysely';
import type { StoreDialect } from './schema.js';
import { hasIndexLeadingWith, readIndexes, readTableColumns } from './schema-inspect.js';

export type ColumnType = ColumnDataType | Expression<unknown>;

export interface ColumnTypes {
  /** Auto-increment primary key (SQLite only allows AUTOINCREMENT on INTEGER). */
  readonly id: ColumnType;
  /** See db-time.ts: TEXT in SQLite, DATETIME(3) in MySQL. */
  readonly time: ColumnType;
  /** Chat text up to 65,000 UTF-16 units: MySQL TEXT (64 KiB) is too small in utf8mb4. */
  readonly longText: ColumnType;
}

export function columnTypes(dialect: StoreDialect): ColumnTypes {
  if (dialect === 'mysql') return { id: 'bigint', time: 'datetime(3)', longText: sql`mediumtext` };
  return { id: 'integer', time: 'text', longText: 'text' };
}

/**
 * Table options of the tables botbridge creates. MySQL: InnoDB, utf8mb4 whatever the server's
 * default charset is (Korean text), and a binary collation so that keys compare exactly as in
 * SQLite and as the protocol means them (`LOA.i` and `loa.i` are two bots).
 */
export function tableOptions(dialect: StoreDialect): Expression<unknown> {
  return dialect === 'mysql' ? sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin` : sql``;
}

export interface IndexSpec {
  readonly name: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly unique?: boolean;
}

/**
 * Creates an index unless it exists (by name), an existing index already serves the same
 * lookups (same leading columns; old deployments named theirs differently), or one of its
 * columns is missing (a later migration adds the column and asks again). Looking it up first
 * also covers MySQL 8, which has no `CREATE INDEX IF NOT EXISTS`. Returns whether it created.
 */
export async function ensureIndex(db: Kysely<any>, dialect: StoreDialect, spec: IndexSpec): Promise<boolean> {
  const columns = await readTableColumns(db, dialect, spec.table);
  if (spec.columns.some((c) => !columns.has(c))) return false;
  const indexes = await readIndexes(db, dialect, spec.table);
  if (indexes.some((i) => i.name === spec.name)) return false;
  if (spec.unique !== true && hasIndexLeadingWith(indexes, spec.columns)) return false;
  let builder = db.schema.createIndex(spec.name).on(spec.table).columns([...spec.columns]);
  if (spec.unique === true) builder = builder.unique();
  // Two processes may migrate one fresh SQLite file at once (see migrateToLatest).
  if (dialect === 'sqlite') builder = builder.ifNotExists();
  await builder.execute();
  return true;
}
