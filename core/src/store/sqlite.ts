import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { BridgeError, reasonOf } from '../errors.js';
import type { Database } from './schema.js';
import type { StoreConnection } from './sql-store.js';
import { sqliteInsertRows, StatementCache } from './sqlite-statements.js';
import { SqliteWriterThread, sqliteThreadInsertRows } from './sqlite-writer.js';

/** `sqlite::memory:`: a private in-memory database (tests). */
export const SQLITE_MEMORY = ':memory:';

/** How long a writer waits for another process's write lock before failing with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * The pragmas every connection to a store file gets: the main one here and the writer thread's
 * (sqlite-writer.ts), so both behave alike. `:memory:` skips WAL (it has no journal file).
 */
export function sqlitePragmas(path: string): string[] {
  return [
    `busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`,
    ...(path === SQLITE_MEMORY ? [] : ['journal_mode = WAL']),
    'synchronous = NORMAL',
    'foreign_keys = ON',
  ];
}

/**
 * Opens (creating it and its directory if needed) a SQLite file as a Kysely database.
 * - WAL: the server keeps reading while the CLI (another process) writes approvals;
 * - busy_timeout: a writer waits for the other process's lock instead of failing at once;
 * - synchronous=NORMAL: safe with WAL (a crash loses at most the last commits, never corrupts);
 * - foreign_keys: off by default in SQLite; on so later migrations can rely on them.
 */
export function openSqliteDatabase(path: string): Kysely<Database> {
  return openSqlite(path).db;
}

/** The Kysely database over the file, and its statement cache (what the Kysely driver prepares with). */
function openSqlite(path: string): { db: Kysely<Database>; statements: StatementCache } {
  let database: BetterSqlite3.Database;
  try {
    if (path !== SQLITE_MEMORY) mkdirSync(dirname(path), { recursive: true });
    database = new BetterSqlite3(path);
    for (const pragma of sqlitePragmas(path)) database.pragma(pragma);
  } catch (error) {
    throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: `cannot open sqlite:${path}: ${reasonOf(error)}` }, { cause: error });
  }
  // Kysely prepares every query it runs; the cache makes a repeated query skip SQLite's parse and plan.
  const statements = new StatementCache(database);
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) }), statements };
}

/**
 * The connection of a store over a SQLite file (or `:memory:`), for a SqlStore (openStore).
 * A file's chat-log, ping and system rows are written by a worker thread (sqlite-writer.ts) unless
 * `writerThread` is false; `:memory:` (one connection only) writes them on the event loop.
 */
export function openSqliteConnection(path: string, options: { writerThread?: boolean } = {}): StoreConnection {
  const { db, statements } = openSqlite(path);
  const description = `sqlite:${path}`;
  if (path === SQLITE_MEMORY || options.writerThread === false) {
    return { db, description, insertRows: sqliteInsertRows(db, statements) };
  }
  const writer = new SqliteWriterThread(path, sqlitePragmas(path));
  return {
    db,
    description,
    insertRows: sqliteThreadInsertRows(db, writer),
    startWriter: () => writer.warm(),
    closeWriter: () => writer.close(),
    writeStatements: (groups) => writer.write(groups),
  };
}
