import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Distinct SQL texts kept prepared; the store's queries have a few dozen shapes. */
export const STATEMENT_CACHE_SIZE = 256;

/**
 * What Kysely's SQLite driver is given instead of the better-sqlite3 database: `prepare` reuses
 * the statement prepared earlier for the same SQL text (least recently used ones are dropped
 * past `max`), so a query run again is not parsed and planned again. A cached statement still
 * busy (being iterated by a stream) is not handed out twice: that caller gets a fresh one.
 */
export class StatementCache {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    readonly database: BetterSqlite3.Database,
    private readonly max = STATEMENT_CACHE_SIZE,
  ) {}

  get size(): number {
    return this.statements.size;
  }

  prepare(sql: string): BetterSqlite3.Statement {
    const cached = this.statements.get(sql);
    if (cached !== undefined) {
      if (cached.busy) return this.database.prepare(sql);
      // Most recently used last: Map keeps insertion order.
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return cached;
    }
    const statement = this.database.prepare(sql);
    this.statements.set(sql, statement);
    if (this.statements.size > this.max) this.statements.delete(this.statements.keys().next().value!);
    return statement;
  }

  close(): void {
    this.statements.clear();
    this.database.close();
  }
}

export type InsertTable = 'kb_chat_logs' | 'kb_ping_monitor' | 'kb_system_monitor';

/** Inserts rows (values keyed by column) into one table; all rows of a call in one transaction. */
export type InsertRows = (table: InsertTable, values: readonly Record<string, unknown>[]) => Promise<void>;

/** One INSERT per table and column list: Kysely's SQL, and the columns its parameters follow. */
export interface CompiledInsert {
  readonly sql: string;
  readonly columns: readonly string[];
}

/**
 * Compiles the single-row INSERT of a row with Kysely (once per table and column list) and lines
 * up each row's values with it. The compiled parameters are checked to be the row's values in
 * column order, so every later row with the same columns binds its values in the same order.
 */
export class InsertCompiler {
  private readonly compiled = new Map<string, CompiledInsert>();

  constructor(private readonly db: Kysely<Database>) {}

  for(table: InsertTable, row: Record<string, unknown>): CompiledInsert {
    const columns = Object.keys(row).filter((column) => row[column] !== undefined);
    const key = `${table}\n${columns.join(',')}`;
    let insert = this.compiled.get(key);
    if (insert === undefined) {
      const compiled = this.db.insertInto(table).values(row as never).compile();
      const values = columns.map((column) => row[column]);
      if (compiled.parameters.length !== values.length || compiled.parameters.some((p, i) => p !== values[i])) {
        throw new Error(`unexpected parameters compiling the single-row insert into ${table}`);
      }
      insert = { sql: compiled.sql, columns };
      this.compiled.set(key, insert);
    }
    return insert;
  }

  /**
   * The row's values in `insert`'s column order, or undefined when the row's defined columns are
   * not exactly its columns (the row then needs its own insert). The mappers make every row of a
   * table with the same keys in the same order, so `Object.values` lines up with `columns`
   * whenever `Object.keys` does.
   */
  static valuesFor(insert: CompiledInsert, row: Record<string, unknown>): unknown[] | undefined {
    const keys = Object.keys(row);
    const { columns } = insert;
    if (keys.length !== columns.length) return undefined;
    const values = Object.values(row);
    for (let i = 0; i < keys.length; i += 1) {
      if (keys[i] !== columns[i] || values[i] === undefined) return undefined;
    }
    return values;
  }

  /** Rows grouped by the insert they need (consecutive rows share one), each as its values. */
  group(table: InsertTable, rows: readonly Record<string, unknown>[]): { insert: CompiledInsert; rows: unknown[][] }[] {
    const groups: { insert: CompiledInsert; rows: unknown[][] }[] = [];
    let current: { insert: CompiledInsert; rows: unknown[][] } | undefined;
    for (const row of rows) {
      let values = current === undefined ? undefined : InsertCompiler.valuesFor(current.insert, row);
      if (values === undefined) {
        const insert = this.for(table, row);
        values = insert.columns.map((column) => row[column]);
        current = { insert, rows: [] };
        groups.push(current);
      }
      current!.rows.push(values);
    }
    return groups;
  }
}

/**
 * SQLite's batch insert on the event loop (used for `:memory:`, which another thread cannot
 * open): one prepared single-row INSERT per table and column list (InsertCompiler), run for every
 * row inside one better-sqlite3 transaction (one commit), instead of a multi-row INSERT compiled
 * and prepared for every batch.
 *
 * The batch runs while holding Kysely's only connection, so it never lands inside a Kysely
 * transaction that another caller has open (it would become part of that transaction), and no
 * other store query runs in between (better-sqlite3 is synchronous: the batch is one event-loop
 * turn).
 */
export function sqliteInsertRows(db: Kysely<Database>, statements: StatementCache): InsertRows {
  const compiler = new InsertCompiler(db);
  const insertAll = statements.database.transaction((table: InsertTable, rows: readonly Record<string, unknown>[]) => {
    for (const group of compiler.group(table, rows)) {
      const statement = statements.prepare(group.insert.sql);
      for (const values of group.rows) statement.run(values);
    }
  });

  return async (table, values) => {
    if (values.length === 0) return;
    await db.connection().execute(async () => {
      insertAll(table, values);
    });
  };
}
