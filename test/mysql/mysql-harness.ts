import { afterEach } from 'vitest';
import { createConnection } from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import { createTestDatabase } from '@botbridge/core/test-support';
import { createTestBridge, FakeBridgeClient, type FakeClientOptions, type TestBridge, type TestBridgeOptions } from '@botbridge/testing';
import { TcpProxy } from '../../core/test/store/tcp-proxy.js';
import { mysqlTestServer } from '../../core/test/store/test-stores.js';

/**
 * Pieces of the MySQL-only end-to-end tests (npm run test:mysql): a fresh database per test on
 * the real MariaDB, an optional TCP proxy in front of it to play faults, raw SQL as another
 * program (the PHP admin) would send it, and bridges and fake phones closed after each test.
 */
export const MYSQL_SERVER = mysqlTestServer();

export function useMysql() {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  });
  return {
    /** A fresh, empty database; its URL on the real server. */
    async database(): Promise<string> {
      const database = await createTestDatabase(MYSQL_SERVER!);
      cleanups.push(() => database.drop());
      return database.url;
    },
    /** A proxy in front of the real server; `proxy.urlFor(url)` routes a URL through it. */
    async proxy(url: string): Promise<TcpProxy> {
      const target = new URL(url);
      const proxy = await TcpProxy.start(target.hostname, Number(target.port || 3306));
      cleanups.push(() => proxy.close());
      return proxy;
    },
    /** A raw connection to the database (bypassing any proxy), as another program would hold. */
    async sql(url: string): Promise<Connection> {
      const target = new URL(url);
      const connection = await createConnection({
        host: target.hostname,
        port: Number(target.port || 3306),
        user: decodeURIComponent(target.username),
        password: decodeURIComponent(target.password),
        database: target.pathname.slice(1),
        multipleStatements: true,
        dateStrings: true,
        charset: 'utf8mb4_unicode_ci',
      });
      cleanups.push(() => connection.end());
      return connection;
    },
    async bridge(options: TestBridgeOptions): Promise<TestBridge> {
      const t = await createTestBridge(options);
      cleanups.push(() => t.close());
      return t;
    },
    /** A phone whose handshake answer is not awaited by the helper. */
    async phone(t: TestBridge, options: Partial<FakeClientOptions> = {}): Promise<FakeBridgeClient> {
      const client = await FakeBridgeClient.connect({ ...options, port: t.port });
      cleanups.push(() => client.close());
      return client;
    },
  };
}

/** Rows of a query, as plain objects. */
export async function rows<T = Record<string, unknown>>(connection: Connection, query: string, params: unknown[] = []): Promise<T[]> {
  const [result] = await connection.query(query, params);
  return result as T[];
}

/** Retries an assertion until it passes (approval changes from another program are polled). */
export async function until(what: string, check: () => Promise<void> | void, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
