import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { BridgeError } from '../../errors.js';
import { MYSQL_DEFAULTS, openMysqlConnection } from '../mysql.js';
import { invalidStoreUrl, redactStoreUrl } from '../store-url.js';
import type { Dialect } from './dialect.js';

/**
 * MySQL and MariaDB through a bounded mysql2 pool: `mysql://user:pass@host:port/db` (or
 * `mariadb://`), `?ssl=true|skip-verify`. The pool, its deadlines and the session settings are in
 * mysql.ts and mysql-pool.ts.
 */
export interface MysqlTarget {
  readonly kind: 'mysql';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Query parameters (e.g. `?ssl=true`), for the opener to interpret. */
  readonly params: Readonly<Record<string, string>>;
  /** The URL with the password replaced. */
  readonly redacted: string;
}

const MYSQL_DEFAULT_PORT = 3306;
const URL_FORM = 'mysql://user:password@host:port/database';

/**
 * Server errors that say "not now" rather than "not this statement": the server is overloaded,
 * shutting down, read-only during a failover, or the connection went away.
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

export const mysqlDialect: Dialect<MysqlTarget> = {
  name: 'mysql',
  urlForm: URL_FORM,

  recognises: (url) => /^(mysql|mariadb):\/\//i.test(url),

  parseUrl(url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalidStoreUrl(url, `not a valid URL (expected ${URL_FORM})`);
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (parsed.hostname === '') throw invalidStoreUrl(url, 'no host');
    if (database === '' || database.includes('/')) throw invalidStoreUrl(url, 'expected exactly one database name in the path');
    const params: Record<string, string> = {};
    for (const [key, value] of parsed.searchParams) params[key] = value;
    return {
      kind: 'mysql',
      host: parsed.hostname,
      port: parsed.port === '' ? MYSQL_DEFAULT_PORT : Number(parsed.port),
      user: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      database,
      params,
      redacted: redactStoreUrl(url),
    };
  },

  open(target, options) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    return openMysqlConnection(target, { ...MYSQL_DEFAULTS, ...defined });
  },

  // MySQL TEXT (64 KiB) is too small for 65,000 UTF-16 units in utf8mb4; times: see db-time.ts.
  columnTypes: { id: 'bigint', time: 'datetime(3)', longText: sql`mediumtext` },
  // InnoDB, utf8mb4 whatever the server's default charset is (Korean text), and a binary
  // collation so keys compare exactly as in SQLite and as the protocol means them (`LOA.i` and
  // `loa.i` are two bots).
  tableOptions: sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`,
  createIndexIfNotExists: false,

  // One table at a time: an operator's database may hold hundreds of other tables (the PHP admin's).
  async readTableColumns(db, table) {
    const { rows } = await sql<{ name: string; type: string }>`select column_name as name, data_type as type from information_schema.columns
        where table_schema = database() and table_name = ${table}`.execute(db);
    return new Map(rows.map((r) => [r.name, String(r.type).toLowerCase()]));
  },

  async readIndexes(db, table) {
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
  },

  isUnavailable(error) {
    const e = error as { fatal?: unknown; errno?: unknown; sqlState?: unknown };
    // mysql2 marks errors that end the connection (lost, reset, handshake failed) as fatal.
    if (e.fatal === true) return true;
    if (typeof e.sqlState === 'string' && typeof e.errno === 'number') return TRANSIENT_MYSQL_ERRNOS.has(e.errno);
    return undefined;
  },

  /**
   * `mysql://root@127.0.0.1:3306/bbtest` creates `bbtest_<16 hex>` on that server. Test files
   * run in parallel against one server, so each gets its own database instead of sharing tables.
   */
  async createTestDatabase(target, serverUrl) {
    const name = `${target.database}_${randomBytes(8).toString('hex')}`.slice(0, 64);
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new BridgeError('BRIDGE_ERR_STORE_URL', { url: target.redacted, reason: 'the database prefix may hold only letters, digits and _' });
    const admin = () => createConnection({ host: target.host, port: target.port, user: target.user, password: target.password, connectTimeout: 5_000 });
    const connection = await admin();
    try {
      await connection.query(`create database \`${name}\` character set utf8mb4 collate utf8mb4_bin`);
    } finally {
      await connection.end();
    }
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    let dropped = false;
    return {
      url: url.toString(),
      async drop() {
        if (dropped) return;
        dropped = true;
        const c = await admin();
        try {
          await c.query(`drop database if exists \`${name}\``);
        } finally {
          await c.end();
        }
      },
    };
  },
};
