import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeError, createBridge, openStore, type Bridge, type Store } from '@botbridge/core';
import { FakeBridgeClient } from '@botbridge/testing';
import { echoPlugin, eventually } from './helpers.js';

/**
 * Fail closed while the store is unavailable, on any store (the MySQL proxy tests in test/mysql
 * play real network faults): a store whose every call fails while `down` is set.
 */
function outageStore(inner: Store): Store & { down: boolean } {
  const wrapped = { down: false } as Store & { down: boolean };
  for (const key of Object.getOwnPropertyNames(Object.getPrototypeOf(inner)) as (keyof Store)[]) {
    const value = inner[key];
    if (typeof value !== 'function' || key === ('constructor' as keyof Store)) continue;
    Object.assign(wrapped, {
      [key]: (...args: unknown[]) => {
        if (wrapped.down && key !== 'close') return Promise.reject(new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: 'test outage' }));
        return (value as (...a: unknown[]) => unknown).apply(inner, args);
      },
    });
  }
  Object.assign(wrapped, { dialect: inner.dialect, description: inner.description });
  return wrapped;
}

const BOT = 'LOA.i';
const CHANNEL = '18445682959392711';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function started(): Promise<{ bridge: Bridge; store: Store & { down: boolean }; port: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'botbridge-outage-'));
  const inner = await openStore(`sqlite:${join(dir, 'bridge.db')}`);
  cleanups.push(async () => {
    await inner.close();
    await rm(dir, { recursive: true, force: true });
  });
  await inner.registerDevice({ botName: BOT, deviceId: 'phone-a', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'approved' });
  await inner.registerDevice({ botName: BOT, deviceId: 'phone-b', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'approved' });
  await inner.registerRoom({ botName: BOT, roomId: CHANNEL, roomName: '테스트방', initialStatus: 'approved' });
  const store = outageStore(inner);
  const bridge = createBridge({
    store,
    config: {
      listen: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      approval: { refreshIntervalMs: 50, staleAfterMs: 1_000 },
      plugins: [echoPlugin],
    },
  });
  const { port } = await bridge.start();
  cleanups.push(() => bridge.close());
  return { bridge, store, port };
}

async function phone(port: number, deviceId: string): Promise<FakeBridgeClient> {
  const client = await FakeBridgeClient.connect({ port, deviceId });
  cleanups.push(() => client.close());
  return client;
}

describe('store outage', () => {
  it('no approval while the store is down, cached approvals for a bounded time, recovery without restart', async () => {
    const { bridge, store, port } = await started();
    const a = await phone(port, 'phone-a');
    expect(await a.handshake).toMatchObject({ approved: true });
    await a.shouldReply({ text: 'hi', channelId: CHANNEL }, '에코: hi');

    store.down = true;
    await eventually('degraded', () => bridge.admin.stats().store.health === 'degraded');
    const b = await phone(port, 'phone-b');
    expect(await b.handshake).toMatchObject({ success: true, approved: false, message: '승인 대기 중인 디바이스입니다' });
    const unknown = await phone(port, 'phone-new');
    expect(await unknown.handshake).toMatchObject({ success: true, approved: false });
    await b.shouldNotReply({ text: 'b', channelId: CHANNEL }, { quietMs: 200 });
    await a.shouldReply({ text: 'cached', channelId: CHANNEL }, '에코: cached');

    await eventually('stale', () => !bridge.admin.stats().store.approvalsFresh, 3_000);
    await a.shouldNotReply({ text: 'stale', channelId: CHANNEL }, { quietMs: 200 });
    expect(bridge.admin.counters.get('handshakes', 'store_degraded')).toBe(2);

    store.down = false;
    // Healthy is the first answered call, which may be a journal or chat-log retry rather than
    // the approval refresh; approvals are usable again once the refresh succeeded too.
    await eventually('healthy, approvals fresh', () => {
      const { health, approvalsFresh } = bridge.admin.stats().store;
      return health === 'healthy' && approvalsFresh;
    });
    await a.shouldReply({ text: 'back', channelId: CHANNEL }, '에코: back');
    await b.shouldReply({ text: 'b', channelId: CHANNEL }, '에코: b');
    await eventually('the unknown device registered after recovery', async () => (await store.getDevice(BOT, 'phone-new'))?.status === 'pending');
    expect(bridge.stats().store).toEqual({ health: 'healthy', approvalsFresh: true });
  });
});
