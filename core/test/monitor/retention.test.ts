import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bridgeConfigSchema } from '@botbridge/sdk/internal';
import { createLogger } from '../../src/logger.js';
import { Counters } from '../../src/metrics/counters.js';
import { EventBus } from '../../src/events/bridge-events.js';
import { RetentionJob } from '../../src/monitor/retention.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { materialiseStoreSpec, openInspector, testStoreSpecs } from '../store/test-stores.js';
import type { TestStoreLocation } from '../store/test-stores.js';

describe.each(testStoreSpecs())('retention on %s', (spec) => {
  let location: TestStoreLocation;
  let store: Store;

  beforeEach(async () => {
    location = await materialiseStoreSpec(spec);
    store = await openStore(location.url);
  });

  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
    await location.cleanup();
  });

  const job = (retention: Record<string, number>, counters = new Counters()) =>
    new RetentionJob({ settings: bridgeConfigSchema.parse({ retention }).retention, store: () => store, events: new EventBus(counters), log: createLogger({ level: 'silent' }) });

  it('is off by default for every table', () => {
    expect(job({}).policies()).toEqual([]);
  });

  it('deletes only expired rows of the tables that have a retention, in batches', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sample = (serverName: string, sampledAt: string) => ({
      serverName, sampledAt: new Date(sampledAt), cpuPercent: null, memoryTotal: null, memoryUsed: null,
      memoryPercent: null, diskUsagePercent: null, activeConnections: null, messageQueueSize: null,
    });
    await store.insertSystemSamples([
      sample('a', '2025-06-01T00:00:00Z'), sample('b', '2025-06-02T00:00:00Z'), sample('c', '2025-06-03T00:00:00Z'), sample('d', '2025-07-14T00:00:00Z'),
    ]);
    vi.setSystemTime(new Date('2025-06-01T00:00:00Z'));
    await store.insertPings([{ botName: 'b', deviceId: 'd', clientIp: 'ip', pingTimeMs: 1, clientTimestamp: 1, serverTimestamp: 2, totalMemory: null, memoryUsage: null, memoryPercent: null, messageQueueSize: null, activeRooms: null }]);
    const counters = new Counters();
    const deleted = await job({ systemDays: 30, batchSize: 2 }, counters).runOnce(new Date('2025-07-15T00:00:00Z'));
    expect(deleted).toEqual({ kb_system_monitor: 3 });
    expect(counters.get('retention_deleted', 'kb_system_monitor')).toBe(3);
    const db = openInspector(location.url);
    try {
      expect((await db.selectFrom('kb_system_monitor').select('server_name').execute()).map((r) => r.server_name)).toEqual(['d']);
      expect(await db.selectFrom('kb_ping_monitor').select('id').execute()).toHaveLength(1);
    } finally {
      await db.destroy();
    }
  });

  it('a store failure is counted and waits for the next run', async () => {
    const counters = new Counters();
    vi.spyOn(store, 'deleteOlderThan').mockRejectedValue(new Error('down'));
    expect(await job({ pingDays: 7 }, counters).runOnce()).toEqual({ kb_ping_monitor: 0 });
    expect(counters.get('store_errors', 'retention_kb_ping_monitor')).toBe(1);
  });
});
