import type { ColumnDataType, Expression, Kysely } from 'kysely';
import type { SchemaDialect } from './dialects/dialect.js';
import { hasIndexLeadingWith } from './schema-inspect.js';

export type ColumnType = ColumnDataType | Expression<unknown>;

export interface ColumnTypes {
  /** Auto-increment primary key (SQLite only allows AUTOINCREMENT on INTEGER). */
  readonly id: ColumnType;
  /** See db-time.ts: TEXT in SQLite, DATETIME(3) in MySQL. */
  readonly time: ColumnType;
  /** Chat text up to 65,000 UTF-16 units: MySQL TEXT (64 KiB) is too small in utf8mb4. */
  readonly longText: ColumnType;
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
export async function ensureIndex(db: Kysely<any>, dialect: SchemaDialect, spec: IndexSpec): Promise<boolean> {
  const columns = await dialect.readTableColumns(db, spec.table);
  if (spec.columns.some((c) => !columns.has(c))) return false;
  const indexes = await dialect.readIndexes(db, spec.table);
  if (indexes.some((i) => i.name === spec.name)) return false;
  if (spec.unique !== true && hasIndexLeadingWith(indexes, spec.columns)) return false;
  let builder = db.schema.createIndex(spec.name).on(spec.table).columns([...spec.columns]);
  if (spec.unique === true) builder = builder.unique();
  // Two processes may migrate one fresh SQLite file at once (see migrateToLatest).
  if (dialect.createIndexIfNotExists) builder = builder.ifNotExists();
  await builder.execute();
  return true;
}
