import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { createTestBridge, type FakeBridgeClient, type TestBridge } from '@botbridge/testing';
import { createTestDatabase } from '../../core/src/store/test-database.js';
import { TcpProxy } from '../../core/test/store/tcp-proxy.js';
import { dropFleet, MYSQL_URL, mysqlUp, NATS_URL, natsUp, testPrefix, until } from '../../core/test/cluster/cluster-env.js';

/**
 * A node that loses NATS keeps serving its own phones (no disconnect), reports `degraded` with
 * the NATS state, and re-publishes its presence once NATS is back. NATS is cut by a TCP proxy
 * in front of the real server (other test files share that server; it is never stopped).
 */
const echo = definePlugin({
  name: 'cluster-echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => `에코: ${message.text}`);
  },
});

const holderOf = (t: TestBridge, botName: string, deviceId: string) => t.bridge.clusterNode!.presence.holderOf(botName, deviceId);

describe.skipIf(!natsUp || !mysqlUp)('cluster mode: NATS lost and back', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('keeps serving its phones, says degraded, and re-publishes presence when NATS returns', async () => {
    const db = await createTestDatabase(MYSQL_URL);
    cleanups.push(() => db.drop());
    const prefix = testPrefix();
    cleanups.push(() => dropFleet(prefix));
    const nats = new URL(NATS_URL);
    const proxy = await TcpProxy.start(nats.hostname, Number(nats.port || 4222));
    cleanups.push(() => proxy.close());
    // Short leases: the outage outlives A's lease, so B forgets A's phones until A re-publishes them.
    const cluster = { prefix, connectTimeoutMs: 3_000, pingIntervalMs: 500, leaseTtlMs: 1_500, leaseRefreshMs: 300 };
    const a = await createTestBridge({ plugins: [echo], config: { store: { url: db.url }, cluster: { ...cluster, url: `nats://127.0.0.1:${proxy.port}`, nodeId: 'a' } } });
    cleanups.push(() => a.close());
    const b = await createTestBridge({ plugins: [echo], config: { store: { url: db.url }, cluster: { ...cluster, url: NATS_URL, nodeId: 'b' } } });
    cleanups.push(() => b.close());
    const phone: FakeBridgeClient = await a.client({ botName: 'shop', deviceId: 'dev-a' });
    cleanups.push(() => phone.close());
    await phone.shouldReply('one', '에코: one');
    await until(() => holderOf(b, 'shop', 'dev-a') === 'a', 3_000, 'B sees A holding dev-a');

    // The cut-off node must not judge the others dead from its own stale view.
    const deadSeenByA: string[] = [];
    a.bridge.clusterNode!.onNodeDead((id) => deadSeenByA.push(id));
    const deadSeenByB: string[] = [];
    b.bridge.clusterNode!.onNodeDead((id) => deadSeenByB.push(id));
    proxy.setMode('refuse');
    proxy.dropAll();
    await until(() => a.bridge.admin.clusterStatus()?.state === 'degraded', 5_000, 'A degraded');
    expect(a.bridge.admin.clusterStatus()).toMatchObject({ node: 'a', nats: 'disconnected', state: 'degraded' });
    // Its own phone is still served, and was never disconnected.
    await phone.shouldReply('two', '에코: two');
    expect(phone.closeReason).toBeNull();
    // While away, a send for a bot only B's side could know is decided locally (no hop attempted).
    expect((await a.bridge.send({ botName: 'shop', room: '테스트방', channelId: null, deviceId: 'dev-a' }, 'local')).status).toBe('written');
    // A phone connecting to A while NATS is away is served at once; its presence waits for NATS.
    const during = await a.client({ botName: 'shop', deviceId: 'dev-a2' });
    cleanups.push(() => during.close());
    await during.shouldReply('while away', '에코: while away');
    // B sees A's lease expire and stops routing to it.
    await until(() => holderOf(b, 'shop', 'dev-a') === null, 5_000, 'B forgets A');
    // Routing stops at the lease's age at once; the death notice comes at B's next judging tick.
    await until(() => deadSeenByB.includes('a'), 5_000, 'B declares A dead');

    proxy.setMode('forward');
    await until(() => a.bridge.admin.clusterStatus()?.state === 'ok', 10_000, 'A rejoined');
    await until(() => holderOf(b, 'shop', 'dev-a') === 'a', 5_000, 'presence re-published');
    await until(() => holderOf(b, 'shop', 'dev-a2') === 'a', 5_000, 'presence of the phone that came during the outage written');
    expect(deadSeenByA).toEqual([]);
    expect(deadSeenByB).toEqual(['a']);
    const sent = await b.bridge.send({ botName: 'shop', room: '테스트방', channelId: null, deviceId: null }, 'via b');
    expect(sent.status).toBe('written');
    expect(phone.closeReason).toBeNull();
    // A's own watches resumed too: a phone connecting on B now is seen by A, and A routes to it.
    const onB = await b.client({ botName: 'other', deviceId: 'dev-b' });
    cleanups.push(() => onB.close());
    await until(() => holderOf(a, 'other', 'dev-b') === 'b', 5_000, 'A sees dev-b on B');
    expect((await a.bridge.send({ botName: 'other', room: '방', channelId: null, deviceId: null }, 'via a')).status).toBe('written');
  });
});
