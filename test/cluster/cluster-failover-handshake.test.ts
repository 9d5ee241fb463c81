import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { openStore, type Store } from '@botbridge/core';
import { createTestBridge, type FakeBridgeClient, type TestBridge } from '@botbridge/testing';
import { createTestDatabase } from '../../core/src/store/test-database.js';
import { dropFleet, MYSQL_URL, mysqlUp, NATS_URL, natsUp, testPrefix, until } from '../../core/test/cluster/cluster-env.js';

/**
 * Failover seen from the phone, in one process: real bridges joined through the real NATS
 * server on one throwaway MariaDB database, real-protocol phones over TCP. A node "dies" for the
 * fleet when its NATS connection is closed without a goodbye (its lease stays until it expires,
 * 10 s by default, longer than each test waits), as after a SIGKILL.
 *
 * - A phone that moves to another node gets its dead node's unanswered messages answered there
 *   first, before its fresh lines (room order), without waiting for the lease to expire.
 * - A reply of an adopted message goes to its own phone on the node holding it now, not to
 *   another phone of the bot on the adopting node.
 * - A node that starts takes over the queued replies of a dead node that left no journal rows.
 */
const stuck = definePlugin({
  name: 'cluster-stuck',
  setup(ctx) {
    ctx.onMessage(() => new Promise<string>(() => {}));
  },
});
const echo = definePlugin({
  name: 'cluster-echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => `에코: ${message.text}`);
  },
});

describe.skipIf(!natsUp || !mysqlUp)('cluster failover at the phone\'s handshake (real NATS, real MariaDB)', () => {
  const bridges: TestBridge[] = [];
  const phones: FakeBridgeClient[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    for (const t of bridges.splice(0).reverse()) await t.close();
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function fleetStore(): Promise<{ url: string; prefix: string; inspector: Store }> {
    const db = await createTestDatabase(MYSQL_URL);
    cleanups.push(() => db.drop());
    const prefix = testPrefix();
    cleanups.push(() => dropFleet(prefix));
    const inspector = await openStore(db.url);
    cleanups.push(() => inspector.close());
    return { url: db.url, prefix, inspector };
  }

  async function node(url: string, prefix: string, nodeId: string, plugin: ReturnType<typeof definePlugin>): Promise<TestBridge> {
    const t = await createTestBridge({
      plugins: [plugin],
      autoApprove: true,
      config: { store: { url }, pipeline: { replyGapMs: 0 }, shutdown: { graceMs: 100 }, cluster: { url: NATS_URL, nodeId, prefix, connectTimeoutMs: 3_000 } },
    });
    bridges.push(t);
    return t;
  }

  async function phone(t: TestBridge, deviceId: string): Promise<FakeBridgeClient> {
    const client = await t.client({ botName: 'shop', deviceId });
    phones.push(client);
    return client;
  }

  /** The node is gone for the fleet (no answer on NATS) and its phone drops, like a SIGKILL; its lease lives on. */
  async function kill(t: TestBridge, onIt: FakeBridgeClient): Promise<void> {
    await t.bridge.clusterNode!.nc.close();
    await onIt.close();
  }

  async function admittedOn(inspector: Store, nodeId: string, count: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while ((await inspector.journalPending(10, nodeId)).length !== count) {
      if (Date.now() > deadline) throw new Error(`${count} rows not admitted on ${nodeId} in time`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('answers the dead node\'s unanswered messages of a room before the moved phone\'s fresh line, long before the lease expires', async () => {
    const { url, prefix, inspector } = await fleetStore();
    const a = await node(url, prefix, 'n0', stuck);
    const b = await node(url, prefix, 'n1', echo);
    await until(() => b.bridge.admin.clusterStatus()?.nodes === 2, 5_000, 'both nodes see each other');
    const onA = await phone(a, 'dev-1');
    onA.analyze({ text: '가', logId: '900001', channelId: '500', room: '방' });
    onA.analyze({ text: '나', logId: '900002', channelId: '500', room: '방' });
    await admittedOn(inspector, 'n0', 2);
    await until(() => b.bridge.clusterNode!.presence.holderOf('shop', 'dev-1') === 'n0', 3_000, 'B sees the device on A');
    await kill(a, onA);

    const started = Date.now();
    const onB = await phone(b, 'dev-1');
    onB.analyze({ text: '다', logId: '900003', channelId: '500', room: '방' });
    const replies = await onB.waitForReplies(3, 5_000);
    // A's lease (10 s) is still alive: only the handshake's direct question found A gone.
    expect(b.bridge.clusterNode!.isNodeAlive('n0')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(replies.map((r) => r.text)).toEqual(['에코: 가', '에코: 나', '에코: 다']);
    expect(b.bridge.stats().counters['cluster{holder_gone}']).toBe(1);
    expect(await inspector.journalPending(10, 'n0')).toEqual([]);
    // The later death notice finds nothing left of A's rows.
    expect(await b.bridge.adoptNode('n0')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(onB.replies).toHaveLength(3);
  });

  it('a handshake on B for a device A holds while A is alive adopts nothing (a live takeover)', async () => {
    const { url, prefix, inspector } = await fleetStore();
    const a = await node(url, prefix, 'n0', stuck);
    const b = await node(url, prefix, 'n1', echo);
    const onA = await phone(a, 'dev-1');
    onA.analyze({ text: '가', logId: '910001', channelId: '510', room: '방' });
    await admittedOn(inspector, 'n0', 1);
    await until(() => b.bridge.clusterNode!.presence.holderOf('shop', 'dev-1') === 'n0', 3_000, 'B sees the device on A');
    const onB = await phone(b, 'dev-1');
    onB.analyze({ text: '나', logId: '910002', channelId: '510', room: '방' });
    expect((await onB.nextReply(5_000)).text).toBe('에코: 나');
    expect(await inspector.journalPending(10, 'n0')).toHaveLength(1);
    expect(b.bridge.stats().counters['cluster{holder_gone}'] ?? 0).toBe(0);
  });

  it('an adopted message\'s reply goes to its own phone on the node holding it now, not to another phone of the bot on the adopter', async () => {
    const { url, prefix, inspector } = await fleetStore();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated = definePlugin({
      name: 'cluster-gated',
      setup(ctx) {
        ctx.onMessage(async ({ message }) => {
          await gate;
          return `늦은 답: ${message.text}`;
        });
      },
    });
    const a = await node(url, prefix, 'n0', stuck);
    const b = await node(url, prefix, 'n1', gated);
    const c = await node(url, prefix, 'n2', echo);
    await until(() => [a, b, c].every((t) => t.bridge.admin.clusterStatus()?.nodes === 3), 5_000, 'every node sees the fleet');
    const otherOnB = await phone(b, 'dev-2');
    const onA = await phone(a, 'dev-1');
    onA.analyze({ text: '가', logId: '920001', channelId: '520', room: '방' });
    onA.analyze({ text: '나', logId: '920002', channelId: '520', room: '방' });
    await admittedOn(inspector, 'n0', 2);
    await kill(a, onA);
    // B adopts A's rows (as at A's death notice); they wait in B's plugin meanwhile.
    expect(await b.bridge.adoptNode('n0')).toBe(2);
    const onC = await phone(c, 'dev-1');
    await until(() => b.bridge.clusterNode!.presence.holderOf('shop', 'dev-1') === 'n2', 3_000, 'B sees the phone on C');
    release();
    const replies = await onC.waitForReplies(2, 5_000);
    expect(replies.map((r) => r.text)).toEqual(['늦은 답: 가', '늦은 답: 나']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(otherOnB.replies).toEqual([]);
    expect(b.bridge.stats().counters['cluster{hop_written}']).toBe(2);
  });

  it('a node that starts takes over the queued replies of a dead node that left no journal rows', async () => {
    const { url, prefix } = await fleetStore();
    const a = await node(url, prefix, 'n0', echo);
    const once = await phone(a, 'dev-1');
    await once.close();
    await until(() => a.bridge.clients().length === 0, 5_000, 'the phone left A');
    const target = { botName: 'shop', room: '큐방', channelId: '530' };
    const queued = [await a.bridge.send(target, 'q1'), await a.bridge.send(target, 'q2'), await a.bridge.send(target, 'q3')];
    expect(queued.map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);
    await a.close();
    bridges.splice(bridges.indexOf(a), 1);

    const b = await node(url, prefix, 'n1', echo);
    const onB = await phone(b, 'dev-1');
    const replies = await onB.waitForReplies(3, 5_000);
    expect(replies.map((r) => r.text)).toEqual(['q1', 'q2', 'q3']);
    expect(b.bridge.stats().outbox).toEqual({ queued: 0, rooms: 0 });
  });
});
