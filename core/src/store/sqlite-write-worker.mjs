// The SQLite writer thread (see sqlite-writer.ts): its own better-sqlite3 connection to the
// store's file, running the batches of prepared INSERTs the main thread sends. Plain JavaScript:
// worker threads do not get the tsx loader that `botbridge start` registers in-process.
// The SQL comes from the main thread (compiled by Kysely there); nothing here writes a query.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

// The pragmas come from the main thread (sqlitePragmas in sqlite.ts), the same as its own connection's.
const { path, pragmas } = workerData;
const db = new BetterSqlite3(path);
for (const pragma of pragmas) db.pragma(pragma);

/** Prepared statements by SQL text: a handful (one INSERT per table and column list). */
const statements = new Map();
const prepare = (sql) => {
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
};

// IMMEDIATE: take the write lock at BEGIN (waiting up to busy_timeout for the main thread's or
// another process's write) rather than failing to upgrade a read lock midway.
const writeBatch = db.transaction((groups) => {
  for (const { sql, rows } of groups) {
    const statement = prepare(sql);
    for (const values of rows) statement.run(values);
  }
}).immediate;

// Memory relief (docs/architecture.md, "Memory"), as the main thread's monitor/memory-relief.ts
// does for its heap: this thread's own V8 heap grows under a burst of batches and, idle, is never
// collected again. Full GCs once no batch came for RELIEF_QUIET_MS after RELIEF_MIN_ROWS rows.
const RELIEF_QUIET_MS = 10_000;
const RELIEF_MIN_ROWS = 1_000;
let rowsSinceRelief = 0;
let reliefTimer;
let gc;
// Two passes a tick apart, as memory-relief.ts explains: the second releases the emptied pages.
const relieve = (passes = 2) => {
  rowsSinceRelief = 0;
  if (passes > 1) {
    reliefTimer = setTimeout(relieve, 2_000, passes - 1);
    reliefTimer.unref();
  }
  try {
    if (gc === undefined) {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc');
    }
    gc();
  } catch {
    // Not essential: memory then stays as V8 left it.
  }
};
const wrote = (groups) => {
  for (const { rows } of groups) rowsSinceRelief += rows.length;
  if (rowsSinceRelief < RELIEF_MIN_ROWS) return;
  clearTimeout(reliefTimer);
  reliefTimer = setTimeout(relieve, RELIEF_QUIET_MS, 2);
  reliefTimer.unref();
};

parentPort.on('message', (request) => {
  if (request.type === 'close') {
    clearTimeout(reliefTimer);
    db.close();
    parentPort.postMessage({ type: 'closed' });
    parentPort.close();
    return;
  }
  try {
    writeBatch(request.groups);
    parentPort.postMessage({ type: 'done', id: request.id });
    wrote(request.groups);
  } catch (error) {
    parentPort.postMessage({
      type: 'failed',
      id: request.id,
      error: { name: error?.name ?? 'Error', message: String(error?.message ?? error), code: typeof error?.code === 'string' ? error.code : undefined },
    });
  }
});
