import { BridgeError } from '../errors.js';

/**
 * MySQL server errors that say "not now" rather than "not this statement": the server is
 * overloaded, shutting down, read-only during a failover, or the connection went away.
 */
const TRANSIENT_MYSQL_ERRNOS: ReadonlySet<number> = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1053, // ER_SERVER_SHUTDOWN
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1290, // ER_OPTION_PREVENTS_STATEMENT (--read-only, failover)
  1836, // ER_READ_ONLY_MODE
  1927, // ER_CONNECTION_KILLED
  2006, // CR_SERVER_GONE_ERROR
  2013, // CR_SERVER_LOST
]);

/** SQLite result codes about the file or its lock, not the statement. */
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|CORRUPT|NOTADB|PROTOCOL)/;

/**
 * Whether a store error means the database could not be reached or did not answer in time
 * (the store is unavailable: retry later, and fail closed meanwhile) rather than that it
 * answered and refused one statement (bad data, a key conflict, a missing column: retrying the
 * same statement cannot help). Unknown errors count as unavailable.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof BridgeError) return error.code !== 'BRIDGE_ERR_STORE_KEY_CONFLICT';
  if (error === null || typeof error !== 'object') return true;
  const e = error as { fatal?: unknown; errno?: unknown; sqlState?: unknown; code?: unknown };
  if (e.fatal === true) return true;
  if (typeof e.sqlState === 'string' && typeof e.errno === 'number') return TRANSIENT_MYSQL_ERRNOS.has(e.errno);
  if (typeof e.code === 'string' && e.code.startsWith('SQLITE_')) return TRANSIENT_SQLITE.test(e.code);
  return true;
}
