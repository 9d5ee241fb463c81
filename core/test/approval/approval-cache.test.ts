import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApprovalStatus } from '@botbridge/sdk';
import { ApprovalCache } from '../../src/approval/approval-cache.js';
import type { ApprovalCacheOptions } from '../../src/approval/approval-cache.js';
import { createLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { materialiseStoreSpec, openInspector, testStoreSpecs, uniqueBotName } from '../store/test-stores.js';
import type { TestStoreLocation } from '../store/test-stores.js';

/**
 * The approval cache against a real store (SQLite, and MariaDB with npm run test:mysql): the
 * change feed, the full refresh that catches writers leaving updated_at alone, staleness and
 * fail-closed lookups while the store is degraded.
 */
describe.each(testStoreSpecs())('approval cache on %s', (spec) => {
  let location: TestStoreLocation;
  let store: Store;
  let bot: string;
  let healthy: boolean;
  const changes: [string, ApprovalStatus][] = [];

  function cache(over: Partial<ApprovalCacheOptions> = {}): ApprovalCache {
    return new ApprovalCache({
      store: () => store,
      log: createLogger({ level: 'silent' }),
      autoApprove: false,
      refreshIntervalMs: 1_000_000,
      fullRefreshIntervalMs: 1_000_000,
      staleAfterMs: 60_000,
      storeHealthy: () => healthy,
      onDeviceChange: (_bot, deviceId, status) => changes.push([deviceId, status]),
      ...over,
    });
  }

  /** Raw SQL as another program (the PHP admin) writes it: no updated_at. */
  async function rawSetStatus(table: 'kb_bot_devices' | 'kb_rooms', status: string): Promise<void> {
    const db = openInspector(location.url);
    try {
      await db.updateTable(table).set({ status }).where('bot_name', '=', bot).execute();
    } finally {
      await db.destroy();
    }
  }

  beforeEach(async () => {
    location = await materialiseStoreSpec(spec);
    store = await openStore(location.url);
    bot = uniqueBotName();
    healthy = true;
    changes.length = 0;
  });

  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
    await location.cleanup();
  });

  const device = (deviceId: string, initialStatus: ApprovalStatus) =>
    store.registerDevice({ botName: bot, deviceId, ipAddress: null, clientType: null, clientVersion: null, initialStatus });

  it('loads devices and rooms at start, room concurrency included', async () => {
    await device('d1', 'approved');
    await store.registerRoom({ botName: bot, roomId: 'r1', roomName: '방', initialStatus: 'approved' });
    const c = cache();
    await c.load();
    expect(c.deviceStatus(bot, 'd1')).toBe('approved');
    expect(c.roomApproval(bot, 'r1')).toEqual({ status: 'approved', concurrency: null });
  });

  it('a status written without updated_at is missed by the feed and caught by the full refresh', async () => {
    await device('d1', 'approved');
    const c = cache({ fullRefreshIntervalMs: 1 });
    await c.load();
    await rawSetStatus('kb_bot_devices', 'revoked');
    await c.poll();
    expect(c.deviceStatus(bot, 'd1')).toBe('revoked');
    expect(changes).toEqual([['d1', 'revoked']]);
  });

  it('forgets a device whose row was deleted (unknown is never approved)', async () => {
    await device('d1', 'approved');
    const c = cache();
    await c.load();
    const db = openInspector(location.url);
    try {
      await db.deleteFrom('kb_bot_devices').where('bot_name', '=', bot).execute();
    } finally {
      await db.destroy();
    }
    await c.reload();
    expect(c.deviceStatus(bot, 'd1')).toBeUndefined();
    expect(changes).toEqual([['d1', 'pending']]);
  });

  it('a refresh never overwrites a change this process made while it was reading', async () => {
    await device('d1', 'pending');
    const c = cache();
    await c.load();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const listDevices = store.listDevices.bind(store);
    const snapshot = await listDevices();
    vi.spyOn(store, 'listDevices').mockImplementation(async () => {
      await gate;
      return snapshot;
    });
    const refreshing = c.reload();
    await c.setDeviceStatus(bot, 'd1', 'approved');
    release();
    await refreshing;
    expect(c.deviceStatus(bot, 'd1')).toBe('approved');
  });

  it('stops reading cached approvals as approved once stale, until a refresh succeeds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-07-15T08:00:00.000Z'));
    await device('d1', 'approved');
    await store.registerRoom({ botName: bot, roomId: 'r1', roomName: '방', initialStatus: 'approved' });
    const c = cache({ staleAfterMs: 60_000 });
    await c.load();
    vi.spyOn(store, 'devicesChangedSince').mockRejectedValue(new Error('down'));
    vi.setSystemTime(new Date('2025-07-15T08:00:59.000Z'));
    await c.poll();
    expect(c.isFresh()).toBe(true);
    expect(c.deviceStatus(bot, 'd1')).toBe('approved');
    vi.setSystemTime(new Date('2025-07-15T08:01:01.000Z'));
    expect(c.isFresh()).toBe(false);
    expect(c.deviceStatus(bot, 'd1')).toBe('pending');
    expect(c.roomApproval(bot, 'r1')?.status).toBe('pending');
    vi.mocked(store.devicesChangedSince).mockRestore();
    await c.poll();
    expect(c.deviceStatus(bot, 'd1')).toBe('approved');
    expect(c.roomApproval(bot, 'r1')?.status).toBe('approved');
  });

  it('does not look a new room up while the store is degraded (fails closed at once)', async () => {
    const c = cache();
    await c.load();
    healthy = false;
    const registerRoom = vi.spyOn(store, 'registerRoom');
    expect(await c.ensureRoom(bot, 'r9', '새방')).toEqual({ status: 'pending', concurrency: null });
    expect(registerRoom).not.toHaveBeenCalled();
    healthy = true;
    expect(await c.ensureRoom(bot, 'r9', '새방')).toEqual({ status: 'pending', concurrency: null });
    expect(registerRoom).toHaveBeenCalledTimes(1);
  });
});
