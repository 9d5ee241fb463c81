import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { mysqlTestServer } from './test-stores.js';

/**
 * Issue 15 item 9: a database that does not exist on a MySQL/MariaDB server that answers is
 * reported as such, with what to do, not as "cannot reach". Against the real MariaDB of the
 * suite's MySQL run (BOTBRIDGE_TEST_STORE=mysql://root@127.0.0.1:3306/botbridge_test).
 */

/** The MariaDB of BOTBRIDGE_TEST_STORE (the MySQL run of the suite), without its database. */
const server = mysqlTestServer();
const base = server === undefined ? undefined : new URL(server);
const SERVER = base === undefined ? '' : `${base.protocol}//${base.username ? `${base.username}${base.password ? `:${base.password}` : ''}@` : ''}${base.host}`;
const HOST = base?.hostname ?? '';
const PORT = base === undefined ? '' : base.port || '3306';
const USER = base === undefined ? '' : decodeURIComponent(base.username) || 'root';

async function openError(url: string, options = {}): Promise<BridgeError> {
  try {
    const store = await openStore(url, options);
    await store.close();
  } catch (error) {
    if (error instanceof BridgeError) return error;
    throw error;
  }
  throw new Error(`${url} opened`);
}

describe.skipIf(server === undefined)('opening a MySQL store', { timeout: 30_000 }, () => {
  it.each([{ timeZone: 'server' }, { timeZone: 'UTC' }])('names a missing database and how to create it (%o)', async (options) => {
    const error = await openError(`${SERVER}/botbridge_no_such_db_4711`, options);
    expect(error.code).toBe('BRIDGE_ERR_STORE_NO_DATABASE');
    expect(error.message).toBe(
      `database botbridge_no_such_db_4711 does not exist on ${HOST}:${PORT}; create it (mysql -h ${HOST} -P ${PORT} -u ${USER} -p -e 'CREATE DATABASE \`botbridge_no_such_db_4711\` CHARACTER SET utf8mb4') or fix the database name in the store URL`,
    );
    expect(error.message).not.toMatch(/cannot reach/);
  });

  it('still says "cannot reach" when nothing listens', async () => {
    const error = await openError('mysql://root@127.0.0.1:1/botbridge', { connectTimeoutMs: 2_000 });
    expect(error.code).toBe('BRIDGE_ERR_STORE_UNAVAILABLE');
    expect(error.message).toMatch(/^store unavailable: cannot reach mysql:\/\/root@127\.0\.0\.1:1\/botbridge: .*ECONNREFUSED/);
  });
});
