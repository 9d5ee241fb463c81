import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isBridgeError } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';
import type { StoreOpenOptions } from '../../src/store/open-store.js';
import { isStoreUnavailable } from '../../src/store/store-errors.js';
import type { Store } from '../../src/store/types.js';
import { TcpProxy } from './tcp-proxy.js';
import { materialiseStoreSpec, mysqlTestServer, openInspector } from './test-stores.js';
import type { TestStoreLocation } from './test-stores.js';

/**
 * The MySQL opener against the real MariaDB (npm run test:mysql): deadlines, pool bounds,
 * session settings, and faults played by a TCP proxy in front of the server.
 */
const server = mysqlTestServer();

describe.skipIf(server === undefined)('mysql store', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function database(): Promise<TestStoreLocation> {
    const location = await materialiseStoreSpec(server!);
    cleanups.push(() => location.cleanup());
    return location;
  }

  async function open(url: string, options: StoreOpenOptions = {}): Promise<Store> {
    const store = await openStore(url, options);
    cleanups.push(() => store.close());
    return store;
  }

  async function proxied(options: StoreOpenOptions = {}): Promise<{ store: Store; proxy: TcpProxy; url: string }> {
    const { url } = await database();
    const target = new URL(url);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 3306));
    cleanups.push(() => proxy.close());
    const store = await open(proxy.urlFor(url), { queryTimeoutMs: 400, connectTimeoutMs: 400, ...options });
    return { store, proxy, url };
  }

  async function failure(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(() => expect.unreachable('expected a failure'), (error: unknown) => error);
  }

  async function eventuallyOk(call: () => Promise<unknown>): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await call();
        return;
      } catch (error) {
        if (attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  it('creates the kb_* tables in utf8mb4 with exact (binary) keys', async () => {
    const { url } = await database();
    const store = await open(url);
    await store.registerDevice({ botName: 'LOA.i', deviceId: 'd1', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'approved' });
    await store.registerDevice({ botName: 'loa.i', deviceId: 'd1', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'pending' });
    expect((await store.listDevices()).map((d) => `${d.botName}:${d.status}`)).toEqual(['LOA.i:approved', 'loa.i:pending']);
    const db = openInspector(url);
    try {
      const { rows } = await sql<{ table_name: string; table_collation: string }>`select table_name, table_collation
        from information_schema.tables where table_schema = database() and table_name like 'kb\\_%' order by table_name`.execute(db);
      expect(rows.map((r) => r.table_name)).toEqual(['kb_bot_devices', 'kb_chat_logs', 'kb_ping_monitor', 'kb_rooms', 'kb_system_monitor']);
      expect(new Set(rows.map((r) => r.table_collation))).toEqual(new Set(['utf8mb4_bin']));
    } finally {
      await db.destroy();
    }
  });

  it('reports an unchanged row as found (CLIENT_FOUND_ROWS)', async () => {
    const { url } = await database();
    const store = await open(url);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-07-15T08:00:00.000Z'));
    await store.registerDevice({ botName: 'b', deviceId: 'd', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'pending' });
    expect(await store.setDeviceStatus('b', 'd', 'approved')).toBe(true);
    expect(await store.setDeviceStatus('b', 'd', 'approved')).toBe(true);
    expect(await store.setDeviceStatus('b', 'nope', 'approved')).toBe(false);
  });

  it('writes and reads DATETIME at the configured zone, and at the server zone by default', async () => {
    const { url } = await database();
    const seoul = await open(url, { timeZone: '+09:00' });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-07-15T08:00:00.123Z'));
    const { record } = await seoul.registerDevice({ botName: 'b', deviceId: 'd', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'pending' });
    expect(record.createdAt).toEqual(new Date('2025-07-15T08:00:00.123Z'));
    vi.useRealTimers();
    const db = openInspector(url);
    try {
      const row = await db.selectFrom('kb_bot_devices').select(['created_at']).executeTakeFirstOrThrow();
      expect(String(row.created_at)).toBe('2025-07-15 17:00:00.123');
      // Another program writes with NOW() in the server's zone; the default store reads it as now.
      await sql`update kb_bot_devices set updated_at = now(3)`.execute(db);
      const before = Date.now();
      const local = await open(url);
      const read = await local.getDevice('b', 'd');
      expect(Math.abs(read!.updatedAt.getTime() - before)).toBeLessThan(60_000);
    } finally {
      await db.destroy();
    }
  });

  it('a query past queryTimeoutMs fails with BRIDGE_ERR_STORE_TIMEOUT, and the store recovers without reopening', async () => {
    const { store, proxy } = await proxied();
    await store.healthCheck();
    proxy.setMode('blackhole');
    const error = await failure(store.healthCheck());
    expect(isBridgeError(error, 'BRIDGE_ERR_STORE_TIMEOUT')).toBe(true);
    expect(isStoreUnavailable(error)).toBe(true);
    // A new connection cannot complete its handshake either: bounded by connectTimeoutMs.
    const again = await failure(store.getDevice('b', 'd'));
    expect(isStoreUnavailable(again)).toBe(true);
    proxy.setMode('forward');
    await eventuallyOk(() => store.healthCheck());
    expect(await store.getDevice('b', 'd')).toBeUndefined();
  });

  it('a server that refuses connections fails calls as unavailable; a restart is survived', async () => {
    const { store, proxy } = await proxied();
    await store.registerDevice({ botName: 'b', deviceId: 'd', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'approved' });
    proxy.setMode('refuse');
    proxy.dropAll();
    expect(isStoreUnavailable(await failure(store.getDevice('b', 'd')))).toBe(true);
    proxy.setMode('forward');
    await eventuallyOk(() => store.getDevice('b', 'd'));
    expect((await store.getDevice('b', 'd'))?.status).toBe('approved');
    // A restart under a warm pool: the pooled connections die, later calls get new ones.
    proxy.dropAll();
    await eventuallyOk(() => store.getDevice('b', 'd'));
    expect(proxy.connections).toBeGreaterThanOrEqual(3);
  });

  it('a connection that timed out is destroyed, never handed to the next caller', async () => {
    const { store, proxy } = await proxied({ connectionLimit: 1, queryTimeoutMs: 300 });
    await store.registerDevice({ botName: 'b', deviceId: 'd', ipAddress: null, clientType: null, clientVersion: 'v1', initialStatus: 'approved' });
    const before = proxy.connections;
    proxy.setMode('blackhole');
    expect(isBridgeError(await failure(store.getDevice('b', 'd')), 'BRIDGE_ERR_STORE_TIMEOUT')).toBe(true);
    proxy.setMode('forward');
    // Reusing the old connection would pair this query with the swallowed one's reply (or hang).
    expect(await store.getDevice('b', 'd')).toMatchObject({ status: 'approved', clientVersion: 'v1' });
    expect(proxy.connections).toBe(before + 1);
  });

  it('callers beyond the pool and its queue fail at once instead of piling up', async () => {
    const { store, proxy } = await proxied({ connectionLimit: 1, queueLimit: 1, queryTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
    await store.healthCheck();
    proxy.setDelay(150);
    const results = await Promise.allSettled([store.healthCheck(), store.healthCheck(), store.healthCheck()]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const refused = (results[2] as PromiseRejectedResult).reason;
    expect(String(refused)).toContain('Queue limit reached');
    expect(isStoreUnavailable(refused)).toBe(true);
  });
});
