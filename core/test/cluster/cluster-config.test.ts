import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveNodeId } from '../../src/cluster/node-id.js';
import { presenceKey, parsePresenceKey } from '../../src/cluster/cluster-keys.js';
import { resolveConfig } from '../../src/config/load-config.js';

describe('cluster config', () => {
  it('is absent by default: a single node', () => {
    expect(resolveConfig({}).settings.cluster).toBeUndefined();
  });

  it('fills the defaults once a url is given', () => {
    expect(resolveConfig({ cluster: { url: 'nats://127.0.0.1:4222' } }).settings.cluster).toEqual({
      url: 'nats://127.0.0.1:4222', prefix: 'botbridge', leaseTtlMs: 10_000, leaseRefreshMs: 3_000,
      connectTimeoutMs: 5_000, requestTimeoutMs: 2_000, fleetTimeoutMs: 500, pingIntervalMs: 2_000,
    });
  });

  it('names a misspelt key with the nearest one, and refuses an id that is no subject token', () => {
    expect(() => resolveConfig({ cluster: { url: 'nats://x', nodeid: 'a' } } as never)).toThrow(/cluster.*nodeid.*did you mean "nodeId"/);
    expect(() => resolveConfig({ cluster: { url: 'nats://x', nodeId: 'a.b' } })).toThrow(/cluster\.nodeId/);
    expect(() => resolveConfig({ clustr: {} } as never)).toThrow(/did you mean "cluster"/);
  });

  it('defaults the node id to <hostname>-<pid>, as a subject token', () => {
    const id = resolveNodeId(undefined, 4242);
    expect(id).toMatch(/^[A-Za-z0-9_-]+-4242$/);
    expect(id.startsWith(hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 10))).toBe(true);
    expect(resolveNodeId('given')).toBe('given');
  });

  it('encodes any bot name and device id into a valid KV key and back', () => {
    for (const [bot, device] of [['봇 이름', 'a.b c'], ['', 'x'], ['LOA.i', '*>']]) {
      const key = presenceKey(bot!, device!);
      expect(key).toMatch(/^[-/_=.A-Za-z0-9]+$/);
      expect(key.split('.')).toHaveLength(2);
      expect(parsePresenceKey(key)).toEqual({ botName: bot, deviceId: device });
    }
  });
});
