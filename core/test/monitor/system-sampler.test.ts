import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { hostProbe, SystemSampler } from '../../src/monitor/system-sampler.js';
import type { HostProbe } from '../../src/monitor/system-sampler.js';

describe('SystemSampler', () => {
  function sampler(probe: HostProbe) {
    return new SystemSampler({
      intervalMs: 300_000, serverName: 'bb-1', diskPath: '/', activeConnections: () => 4, queueDepth: () => 7,
      write: () => undefined, log: createLogger({ level: 'silent' }), probe,
    });
  }

  it('reports CPU busy share since the previous sample, memory, disk, connections and queue depth', async () => {
    const cpu = [{ busy: 1_000, total: 10_000 }, { busy: 1_250, total: 11_000 }, { busy: 1_250, total: 12_000 }];
    let i = 0;
    const s = sampler({
      cpuTimes: () => cpu[i++]!,
      memory: () => ({ total: 8_000, free: 2_000 }),
      diskUsagePercent: async () => 61.234,
    });
    s.start();
    s.stop();
    const first = await s.sample(new Date('2025-07-15T08:00:00.000Z'));
    expect(first).toEqual({
      serverName: 'bb-1', sampledAt: new Date('2025-07-15T08:00:00.000Z'), cpuPercent: 25, memoryTotal: 8_000, memoryUsed: 6_000,
      memoryPercent: 75, diskUsagePercent: 61.23, activeConnections: 4, messageQueueSize: 7,
    });
    expect((await s.sample()).cpuPercent).toBe(0);
  });

  it('a disk it cannot read leaves that column empty, and the first sample without a baseline has no CPU', async () => {
    const s = sampler({ ...hostProbe, diskUsagePercent: async () => { throw new Error('ENOENT'); } });
    const sample = await s.sample();
    expect(sample.diskUsagePercent).toBeNull();
    expect(sample.cpuPercent).toBeNull();
  });

  it('reads this host', async () => {
    expect(await hostProbe.diskUsagePercent('/')).toBeGreaterThan(0);
    const { busy, total } = hostProbe.cpuTimes();
    expect(total).toBeGreaterThan(busy);
  });
});
