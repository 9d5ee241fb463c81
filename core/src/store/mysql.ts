import { Kysely, MysqlDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import type { PoolOptions } from 'mysql2';
import { BridgeError, reasonOf } from '../errors.js';
import { DbClock, offsetLabel, parseOffset } from './db-time.js';
import { boundedPool } from './mysql-pool.js';
import type { MysqlTarget } from './dialects/mysql.js';
import type { Database } from './schema.js';
import type { StoreConnection } from './sql-store.js';

export interface MysqlStoreOptions {
  /** Connections the pool opens at most. */
  readonly connectionLimit: number;
  /** Callers waiting for a connection at most; one more fails at once (the database is too slow). */
  readonly queueLimit: number;
  /** Longest wait for a connection, new (TCP + MySQL handshake) or from the pool. */
  readonly connectTimeoutMs: number;
  /** Longest wait for one statement. */
  readonly queryTimeoutMs: number;
  /** `server` (the database's own zone, as PHP pages see it), `UTC`, or a fixed `±HH:MM`. */
  readonly timeZone: string;
}

export const MYSQL_DEFAULTS: MysqlStoreOptions = {
  connectionLimit: 10,
  queueLimit: 1_000,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 5_000,
  timeZone: 'server',
};

/** `?ssl=true` (verified TLS) or `?ssl=skip-verify`; nothing else is accepted, so a typo is not ignored. */
function tlsOption(target: MysqlTarget): PoolOptions['ssl'] {
  for (const key of Object.keys(target.params)) {
    if (key !== 'ssl') throw new BridgeError('BRIDGE_ERR_STORE_URL', { url: target.redacted, reason: `unknown parameter ${key} (only ssl is supported)` });
  }
  const ssl = target.params.ssl;
  if (ssl === undefined || ssl === 'false') return undefined;
  if (ssl === 'true') return {};
  if (ssl === 'skip-verify') return { rejectUnauthorized: false };
  throw new BridgeError('BRIDGE_ERR_STORE_URL', { url: target.redacted, reason: 'ssl must be true, false or skip-verify' });
}

/**
 * Opens a MySQL/MariaDB database through a bounded mysql2 pool. Session settings:
 * - FOUND_ROWS: an UPDATE that changes nothing (a same-millisecond repeat) still reports its row
 *   as found, as SQLite does; without it setDeviceStatus would say "no such device";
 * - no LOCAL_FILES, no MULTI_STATEMENTS: a compromised value can neither read files of this
 *   host nor chain statements;
 * - dateStrings: DATETIME values arrive as the strings they are; db-time.ts converts them
 *   at the session time zone's offset (a fixed zone is set on every new connection; `server`
 *   keeps the server's zone and measures its offset once here);
 * - utf8mb4 on the wire (Korean text, emoji).
 * The connection is for a SqlStore (openStore), which migrates before use.
 */
export async function openMysqlConnection(target: MysqlTarget, options: MysqlStoreOptions = MYSQL_DEFAULTS): Promise<StoreConnection> {
  const fixedOffset = options.timeZone === 'server' ? undefined : parseOffset(options.timeZone);
  if (options.timeZone !== 'server' && fixedOffset === undefined) {
    throw new BridgeError('BRIDGE_ERR_STORE_URL', { url: target.redacted, reason: `store.timeZone ${options.timeZone}: expected server, UTC or ±HH:MM` });
  }
  const pool = createPool({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    ssl: tlsOption(target),
    connectionLimit: options.connectionLimit,
    maxIdle: options.connectionLimit,
    queueLimit: options.queueLimit,
    waitForConnections: true,
    connectTimeout: options.connectTimeoutMs,
    enableKeepAlive: true,
    charset: 'utf8mb4_unicode_ci',
    dateStrings: true,
    supportBigNumbers: true,
    flags: ['FOUND_ROWS', '-LOCAL_FILES', '-MULTI_STATEMENTS'],
  });
  pool.on('connection', (connection) => {
    // The pool drops a connection on its first error; a second one must not crash the process.
    connection.on('error', () => undefined);
    if (fixedOffset !== undefined) {
      connection.query('set time_zone = ?', [offsetLabel(fixedOffset)], (error) => {
        if (error) connection.destroy();
      });
    }
  });
  const db = new Kysely<Database>({
    dialect: new MysqlDialect({
      pool: boundedPool(pool, { acquireTimeoutMs: options.connectTimeoutMs, queryTimeoutMs: options.queryTimeoutMs }),
    }),
  });
  let offset = fixedOffset;
  try {
    // Also the connection check when the zone is fixed: a wrong database name or password is
    // then reported here, as what it is, not by the first migration statement.
    const { rows } = await sql<{ minutes: number | string }>`select timestampdiff(minute, utc_timestamp(), now()) as minutes`.execute(db);
    offset ??= Number(rows[0]?.minutes ?? 0);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw mysqlOpenError(target, error);
  }
  return { db, description: target.redacted, clock: new DbClock(offset) };
}

/**
 * What an open that failed means: the server answered that the database does not exist
 * (`ER_BAD_DB_ERROR`: create it), refused the user (`ER_ACCESS_DENIED_ERROR`, wrong user or
 * password), or could not be reached at all.
 */
export function mysqlOpenError(target: MysqlTarget, error: unknown): BridgeError {
  const code = (error as { code?: unknown }).code;
  const server = `${target.host}:${target.port}`;
  if (code === 'ER_BAD_DB_ERROR') {
    const hint = `mysql -h ${target.host} -P ${target.port} -u ${target.user || 'root'} -p -e 'CREATE DATABASE \`${target.database}\` CHARACTER SET utf8mb4'`;
    return new BridgeError('BRIDGE_ERR_STORE_NO_DATABASE', { database: target.database, server, hint }, { cause: error });
  }
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
    return new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: `${server} refused the login of ${target.redacted}: ${reasonOf(error)}; check the user and password in the store URL and the user's grants on ${target.database}` }, { cause: error });
  }
  return new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: `cannot reach ${target.redacted}: ${reasonOf(error)}` }, { cause: error });
}
