import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, type BridgeConfig } from '@botbridge/sdk';
import { createTestBridge, type FakeBridgeClient, type TestBridge } from '@botbridge/testing';
import { createTestDatabase, type TestDatabase } from '../../core/src/store/test-database.js';
import { dropFleet, MYSQL_URL, mysqlUp, NATS_URL, natsUp, testPrefix, until } from '../../core/test/cluster/cluster-env.js';

/**
 * Cluster mode in one process: real bridges joined through the real NATS server, sharing one
 * throwaway MariaDB database, real-protocol phones (FakeBridgeClient) over TCP. Presence and
 * takeover, reply hops with honest results, approval events, fleet client lists.
 */
const echo = definePlugin({
  name: 'cluster-echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => `에코: ${message.text}`);
  },
});

describe.skipIf(!natsUp || !mysqlUp)('cluster mode (real NATS, real MariaDB)', () => {
  const bridges: TestBridge[] = [];
  const phones: FakeBridgeClient[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    for (const t of bridges.splice(0).reverse()) await t.close();
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function fleet(count: number, config: Omit<BridgeConfig, 'plugins'> = {}, autoApprove = true): Promise<TestBridge[]> {
    const db: TestDatabase = await createTestDatabase(MYSQL_URL);
    cleanups.push(() => db.drop());
    const prefix = testPrefix();
    cleanups.push(() => dropFleet(prefix));
    const out: TestBridge[] = [];
    for (let i = 0; i < count; i += 1) {
      const t = await createTestBridge({
        plugins: [echo],
        autoApprove,
        config: {
          ...config,
          store: { url: db.url },
          cluster: { url: NATS_URL, nodeId: `n${i}`, prefix, connectTimeoutMs: 3_000 },
        },
      });
      bridges.push(t);
      out.push(t);
    }
    await until(() => out.every((t) => t.bridge.admin.clusterStatus()?.nodes === count), 5_000, 'every node sees the fleet');
    return out;
  }

  async function phone(t: TestBridge, botName: string, deviceId: string): Promise<FakeBridgeClient> {
    const client = await t.client({ botName, deviceId });
    phones.push(client);
    return client;
  }

  it('a proactive send on node B for a phone on node A is written by A, with the trace id carried over', async () => {
    const [a, b] = await fleet(2);
    const onA = await phone(a!, 'shop', 'dev-a');
    await onA.shouldReply('hello', '에코: hello');
    await until(() => b!.bridge.admin.clusterStatus() !== null && b!.bridge.clusterNode!.presence.holderOf('shop', 'dev-a') === 'n0', 3_000, 'presence seen on B');
    const traces: string[] = [];
    const scope = a!.bridge.events.scope();
    cleanups.push(async () => scope.dispose());
    scope.subscribe('reply:sent', (event) => traces.push(event.traceId));
    const result = await b!.bridge.send({ botName: 'shop', room: '테스트방', channelId: '18445682959392711', deviceId: null }, '공지');
    expect(result.status).toBe('written');
    expect(result.status === 'written' && result.deviceId).toBe('dev-a');
    const reply = await onA.nextReply();
    expect(reply.text).toBe('공지');
    expect(traces).toContain(result.traceId);
    expect(b!.bridge.stats().counters['cluster{hop_written}']).toBe(1);
    expect(a!.bridge.stats().counters['cluster{hop_served}']).toBe(1);
  });

  it('keeps a room\'s order across the hop: sends started together on B arrive on A\'s phone in order', async () => {
    const [a, b] = await fleet(2, { pipeline: { replyGapMs: 0 } });
    const onA = await phone(a!, 'shop', 'dev-a');
    await onA.shouldReply('hello', '에코: hello');
    await until(() => b!.bridge.clusterNode!.presence.remoteHolders('shop', null).length > 0, 3_000, 'B sees the phone');
    const texts = Array.from({ length: 30 }, (_, i) => `m${i}`);
    const results = await Promise.all(texts.map((text) => b!.bridge.send({ botName: 'shop', room: '테스트방', channelId: '18445682959392711', deviceId: null }, text)));
    expect(results.every((r) => r.status === 'written')).toBe(true);
    const got = await onA.waitForReplies(texts.length);
    expect(got.map((r) => r.text)).toEqual(texts);
  });

  it('a send for a bot no node holds is queued (approved device known) and delivered through the node its phone comes back to; an unknown bot is rejected', async () => {
    const [a, b] = await fleet(2);
    const onA = await phone(a!, 'shop', 'dev-a');
    await onA.shouldReply('hi', '에코: hi');
    await onA.close();
    await until(() => a!.bridge.clients().length === 0);
    await until(() => b!.bridge.clusterNode!.presence.holderOf('shop', 'dev-a') === null, 3_000, 'presence released');
    const queued = await b!.bridge.send({ botName: 'shop', room: '테스트방', channelId: '18445682959392711', deviceId: null }, 'later');
    expect(queued.status).toBe('queued');
    const nobody = await b!.bridge.send({ botName: 'no-such-bot', room: 'r', channelId: null, deviceId: null }, 'x');
    expect(nobody).toMatchObject({ status: 'rejected', reason: 'no_client' });
    // The phone is back, on node A: B's backlog for the bot goes out through A.
    const back = await phone(a!, 'shop', 'dev-a');
    expect((await back.nextReply(5_000)).text).toBe('later');
    await until(() => b!.bridge.stats().outbox.queued === 0, 3_000, 'B\'s outbox empty');
  });

  it('a handshake on node B for a device held by node A takes it over: A closes its connection, one holder fleet-wide', async () => {
    const [a, b] = await fleet(2);
    const first = await phone(a!, 'shop', 'dev-x');
    await first.shouldReply('one', '에코: one');
    const second = await phone(b!, 'shop', 'dev-x');
    await until(() => first.closeReason !== null, 3_000, 'A closed the old connection');
    await until(() => a!.bridge.clients().length === 0, 3_000, 'A holds nothing');
    expect(b!.bridge.clients().map((c) => `${c.node}:${c.deviceId}`)).toEqual(['n1:dev-x']);
    expect(b!.bridge.stats().counters['cluster{takeover}']).toBe(1);
    // A reply for the device now goes through B; the old connection gets nothing more.
    const before = first.replies.length;
    const result = await a!.bridge.send({ botName: 'shop', room: '테스트방', channelId: '18445682959392711', deviceId: 'dev-x' }, 'moved');
    expect(result.status).toBe('written');
    expect((await second.nextReply()).text).toBe('moved');
    expect(first.replies.length).toBe(before);
  });

  it('a message answered after its phone moved to another node is delivered there, once', async () => {
    const db = await createTestDatabase(MYSQL_URL);
    cleanups.push(() => db.drop());
    const prefix = testPrefix();
    cleanups.push(() => dropFleet(prefix));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = definePlugin({
      name: 'cluster-slow',
      setup(ctx) {
        ctx.onMessage(async ({ message }) => {
          await gate;
          return `늦은 답: ${message.text}`;
        });
      },
    });
    const make = async (nodeId: string) => {
      const t = await createTestBridge({ plugins: [slow], config: { store: { url: db.url }, cluster: { url: NATS_URL, nodeId, prefix } } });
      bridges.push(t);
      return t;
    };
    const a = await make('a');
    const b = await make('b');
    const first = await phone(a, 'shop', 'dev-m');
    first.analyze('question');
    await until(() => a.bridge.stats().dispatcher.running === 1, 3_000, 'the message runs on A');
    const moved = await phone(b, 'shop', 'dev-m');
    await until(() => first.closeReason !== null, 3_000, 'A let the device go');
    release();
    expect((await moved.nextReply()).text).toBe('늦은 답: question');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(moved.replies.filter((r) => r.text === '늦은 답: question')).toHaveLength(1);
    expect(first.replies).toHaveLength(0);
  });

  it('approving a device on node B reaches its live connection on node A within 1 s (event, not the poll)', async () => {
    // Polls far apart: only the NATS event can bring the change in time.
    const [a, b] = await fleet(2, { approval: { refreshIntervalMs: 60_000, fullRefreshIntervalMs: 60_000 } }, false);
    await a!.setRoomStatus('shop', '18445682959392711', 'approved');
    const pending = await phone(a!, 'shop', 'dev-p');
    await pending.shouldNotReply('before', { quietMs: 200 });
    const started = Date.now();
    expect(await b!.bridge.admin.setDeviceStatus('shop', 'dev-p', 'approved')).toBe(true);
    await until(() => a!.bridge.clients().find((c) => c.deviceId === 'dev-p')?.approval === 'approved', 1_000, 'approval on A');
    const latency = Date.now() - started;
    await pending.shouldReply('after', '에코: after');
    expect(latency).toBeLessThan(1_000);
    // Revoking on B disconnects it on A.
    await b!.bridge.admin.setDeviceStatus('shop', 'dev-p', 'revoked');
    await until(() => pending.closeReason !== null, 1_000, 'revoked device closed on A');
  });

  it('the fleet client list on any node names every node\'s phones with their node; a disconnect on one node reaches the holder', async () => {
    const nodes = await fleet(3);
    const phones3: FakeBridgeClient[] = [];
    for (const [i, t] of nodes.entries()) phones3.push(await phone(t, 'shop', `dev-${i}`));
    for (const t of nodes) {
      const all = await t.bridge.admin.fleetClients();
      expect(all.map((c) => `${c.node}:${c.deviceId}`).sort()).toEqual(['n0:dev-0', 'n1:dev-1', 'n2:dev-2']);
    }
    // An operator on node 0 disconnects the phone held by node 2.
    await until(() => nodes[0]!.bridge.clusterNode!.presence.holderOf('shop', 'dev-2') === 'n2', 3_000, 'n0 sees dev-2');
    expect(await nodes[0]!.bridge.admin.disconnectAnywhere('shop', 'dev-2')).toBe(true);
    await until(() => phones3[2]!.closeReason !== null, 3_000, 'dev-2 closed on n2');
    expect(await nodes[0]!.bridge.admin.disconnectAnywhere('shop', 'nobody')).toBe(false);
  });
});
