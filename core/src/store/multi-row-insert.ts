import { CompiledQuery, type Kysely } from 'kysely';
import { chunkRows } from './batch-chunks.js';
import type { Database } from './schema.js';
import { InsertCompiler, type InsertRows } from './sqlite-statements.js';

/**
 * MySQL's batch insert: one multi-row INSERT per batch (per chunk when a batch passes the
 * statement limits of batch-chunks.ts), without BEGIN/COMMIT when the batch is one statement.
 *
 * Measured on a busy event loop (the writer shares it with 100 connections): BEGIN and COMMIT
 * were two more round trips per batch, each waiting behind the loop (200-row batches: 3.4-4.9k
 * rows/s with them, 5.6-6.6k without); and Kysely compiling a 1,000-row INSERT cost 3-5.7 µs
 * per row, the largest cost left on the loop (mysql2 formatting the values 1.4-2.8, mapping
 * rows 0.5-1). So the SQL is not compiled per batch: Kysely compiles the single-row INSERT once
 * per table and column list (InsertCompiler), and the n-row text repeats its VALUES tuple,
 * checked once against Kysely's own two-row INSERT so the SQL still has one source.
 */
export function multiRowInsert(db: Kysely<Database>): InsertRows {
  const compiler = new InsertCompiler(db);
  const tuples = new Map<string, { head: string; tuple: string }>();

  const shapeOf = (sql: string, table: string, sample: Record<string, unknown>): { head: string; tuple: string } => {
    let shape = tuples.get(sql);
    if (shape === undefined) {
      const at = sql.lastIndexOf(' values (');
      if (at < 0) throw new Error(`unexpected single-row insert into ${table}: ${sql}`);
      shape = { head: sql.slice(0, at + ' values '.length), tuple: sql.slice(at + ' values '.length) };
      const two = db.insertInto(table as never).values([sample, sample] as never).compile().sql;
      if (two !== `${shape.head}${shape.tuple}, ${shape.tuple}`) throw new Error(`unexpected multi-row insert into ${table}: ${two}`);
      tuples.set(sql, shape);
    }
    return shape;
  };

  return async (table, values) => {
    if (values.length === 0) return;
    const statements: CompiledQuery[] = [];
    for (const group of compiler.group(table, values)) {
      const sample = Object.fromEntries(group.insert.columns.map((column, i) => [column, group.rows[0]![i]]));
      const { head, tuple } = shapeOf(group.insert.sql, table, sample);
      for (const chunk of chunkRows(group.rows)) {
        const sql = head + tuple + `, ${tuple}`.repeat(chunk.length - 1);
        statements.push(CompiledQuery.raw(sql, chunk.flat()));
      }
    }
    // One statement is atomic by itself: BEGIN and COMMIT would only add round trips.
    if (statements.length === 1) {
      await db.executeQuery(statements[0]!);
      return;
    }
    await db.transaction().execute(async (trx) => {
      for (const statement of statements) await trx.executeQuery(statement);
    });
  };
}
