import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { BridgeError } from '../errors.js';
import { parseStoreUrl } from './store-url.js';

export interface TestDatabase {
  /** The store URL of the new, empty database. */
  readonly url: string;
  /** Drops the database (idempotent). */
  drop(): Promise<void>;
}

/** True for `mysql://` / `mariadb://` URLs. */
export function isMysqlUrl(url: string): boolean {
  return /^(mysql|mariadb):\/\//i.test(url.trim());
}

/**
 * A throwaway database for one test bridge or one test: `mysql://root@127.0.0.1:3306/bbtest`
 * creates `bbtest_<16 hex>` on that server. Test files run in parallel against one server, so
 * each gets its own database instead of sharing tables. Test support only: never used by the
 * server itself.
 */
export async function createTestDatabase(serverUrl: string): Promise<TestDatabase> {
  const target = parseStoreUrl(serverUrl);
  if (target.kind !== 'mysql') throw new BridgeError('BRIDGE_ERR_STORE_URL', { url: serverUrl, reason: 'a test database needs a mysql:// URL' });
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
}
