import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';

/**
 * Issue 15 item 9: a database that does not exist on a MySQL/MariaDB server that answers is
 * reported as such, with what to do, not as "cannot reach". Against the real MariaDB of the
 * test machine (127.0.0.1:3306, root without a password).
 */

const SERVER = process.env.BOTBRIDGE_TEST_MYSQL_SERVER ?? 'mysql://root@127.0.0.1:3306';

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

describe('opening a MySQL store', { timeout: 30_000 }, () => {
  it.each([{ timeZone: 'server' }, { timeZone: 'UTC' }])('names a missing database and how to create it (%o)', async (options) => {
    const error = await openError(`${SERVER}/botbridge_no_such_db_4711`, options);
    expect(error.code).toBe('BRIDGE_ERR_STORE_NO_DATABASE');
    expect(error.message).toBe(
      "database botbridge_no_such_db_4711 does not exist on 127.0.0.1:3306; create it (mysql -h 127.0.0.1 -P 3306 -u root -p -e 'CREATE DATABASE `botbridge_no_such_db_4711` CHARACTER SET utf8mb4') or fix the database name in the store URL",
    );
    expect(error.message).not.toMatch(/cannot reach/);
  });

  it('still says "cannot reach" when nothing listens', async () => {
    const error = await openError('mysql://root@127.0.0.1:1/botbridge', { connectTimeoutMs: 2_000 });
    expect(error.code).toBe('BRIDGE_ERR_STORE_UNAVAILABLE');
    expect(error.message).toMatch(/^store unavailable: cannot reach mysql:\/\/root@127\.0\.0\.1:1\/botbridge: .*ECONNREFUSED/);
  });
});
