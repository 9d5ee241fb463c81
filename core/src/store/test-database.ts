import { BridgeError } from '../errors.js';
import { dialectFor, findDialect } from './dialects/registry.js';
import { redactStoreUrl } from './store-url.js';

/**
 * Throwaway databases for tests (`@botbridge/core/test-support`; not in core's public index, and
 * never used by the server itself). A dialect that can create databases on a server (MySQL)
 * gives each test bridge or test file its own; SQLite tests use temporary files instead.
 */

export interface TestDatabase {
  /** The store URL of the new, empty database. */
  readonly url: string;
  /** Drops the database (idempotent). */
  drop(): Promise<void>;
}

/** Whether createTestDatabase can make a database on the server this URL names (`mysql://`, `mariadb://`). */
export function supportsTestDatabase(url: string): boolean {
  return findDialect(url)?.createTestDatabase !== undefined;
}

/**
 * A fresh, empty database on the server `serverUrl` names, its database name used as a prefix:
 * `mysql://root@127.0.0.1:3306/bbtest` creates `bbtest_<16 hex>`.
 */
export async function createTestDatabase(serverUrl: string): Promise<TestDatabase> {
  const dialect = dialectFor(serverUrl);
  if (dialect.createTestDatabase === undefined) {
    throw new BridgeError('BRIDGE_ERR_STORE_URL', { url: redactStoreUrl(serverUrl), reason: `${dialect.name} stores cannot create test databases (use a mysql:// URL)` });
  }
  return dialect.createTestDatabase(dialect.parseUrl(serverUrl.trim(), process.cwd()), serverUrl);
}
