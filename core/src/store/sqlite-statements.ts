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

interface PreparedInsert {
  readonly statement: BetterSqlite3.Statement;
  readonly columns: readonly string[];
}

/**
 * SQLite's batch insert: one prepared single-row INSERT per table and column list, run for
 * every row inside one better-sqlite3 transaction (one commit), instead of a multi-row INSERT
 * compiled and prepared for every batch. The SQL is still Kysely's: the single-row INSERT of the
 * first row is compiled once, and its parameters are checked to be that row's values in column
 * order, so each later row binds its values in the same order.
 *
 * The batch runs while holding Kysely's only connection, so it never lands inside a Kysely
 * transaction that another caller has open (it would become part of that transaction), and no
 * other store query runs in between (better-sqlite3 is synchronous: the batch is one event-loop
 * turn).
 */
export function sqliteInsertRows(db: Kysely<Database>, statements: StatementCache): InsertRows {
  const prepared = new Map<string, PreparedInsert>();

  const prepareFor = (table: InsertTable, row: Record<string, unknown>): PreparedInsert => {
    const columns = Object.keys(row).filter((column) => row[column] !== undefined);
    const key = `${table}\n${columns.join(',')}`;
    let insert = prepared.get(key);
    if (insert === undefined) {
      const compiled = db.insertInto(table).values(row as never).compile();
      const values = columns.map((column) => row[column]);
      if (compiled.parameters.length !== values.length || compiled.parameters.some((p, i) => p !== values[i])) {
        throw new Error(`unexpected parameters compiling the single-row insert into ${table}`);
      }
      insert = { statement: statements.prepare(compiled.sql), columns };
      prepared.set(key, insert);
    }
    return insert;
  };

  /**
   * The row's values in the statement's column order, or undefined when the row's defined
   * columns are not exactly the statement's (then the row gets its own statement). The mappers
   * make every row of a table with the same keys in the same order, so `Object.values` lines up
   * with `columns` whenever `Object.keys` does.
   */
  const valuesFor = (insert: PreparedInsert, row: Record<string, unknown>): unknown[] | undefined => {
    const keys = Object.keys(row);
    const { columns } = insert;
    if (keys.length !== columns.length) return undefined;
    const values = Object.values(row);
    for (let i = 0; i < keys.length; i += 1) {
      if (keys[i] !== columns[i] || values[i] === undefined) return undefined;
    }
    return values;
  };

  const insertAll = statements.database.transaction((table: InsertTable, rows: readonly Record<string, unknown>[]) => {
    let insert = prepareFor(table, rows[0]!);
    for (const row of rows) {
      let values = valuesFor(insert, row);
      if (values === undefined) {
        insert = prepareFor(table, row);
        values = insert.columns.map((column) => row[column]);
      }
      insert.statement.run(values);
    }
  });

  return async (table, values) => {
    if (values.length === 0) return;
    await db.connection().execute(async () => {
      insertAll(table, values);
    });
  };
}
