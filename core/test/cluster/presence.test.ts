import { afterEach, describe, expect, it } from 'vitest';
import { ClusterNode, type ClusterOptions } from '../../src/cluster/cluster-node.js';
import { isBridgeError } from '../../src/errors.js';
import { dropFleet, NATS_URL, natsUp, quietLog, testPrefix, until } from './cluster-env.js';

/**
 * ClusterNode against the real NATS server: leases (alive, dead by age, left), presence CAS and
 * takeover (one holder fleet-wide, the loser told to close), refusal without NATS.
 */
describe.skipIf(!natsUp)('cluster node (real NATS)', () => {
  const nodes: ClusterNode[] = [];
  const prefixes: string[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close().catch(() => undefined);
    for (const prefix of prefixes.splice(0)) await dropFleet(prefix);
  });

  function fleet(): string {
    const prefix = testPrefix();
    prefixes.push(prefix);
    return prefix;
  }

  async function join(prefix: string, nodeId: string, extra: Partial<ClusterOptions> = {}): Promise<ClusterNode> {
    const node = await ClusterNode.join({
      url: NATS_URL, nodeId, prefix, leaseTtlMs: 10_000, leaseRefreshMs: 3_000, connectTimeoutMs: 3_000, pingIntervalMs: 2_000, log: quietLog(), ...extra,
    });
    nodes.push(node);
    return node;
  }

  it('refuses to start when NATS is unreachable, with a code that says what to do', async () => {
    const error = await ClusterNode.join({
      url: 'nats://127.0.0.1:1', nodeId: 'x', prefix: 'unused', leaseTtlMs: 10_000, leaseRefreshMs: 3_000, connectTimeoutMs: 1_000, pingIntervalMs: 2_000, log: quietLog(),
    }).catch((e: unknown) => e);
    expect(isBridgeError(error, 'BRIDGE_ERR_CLUSTER_CONNECT')).toBe(true);
    expect(String((error as Error).message)).toMatch(/nats-server -js/);
  });

  it('sees the other nodes alive, refuses a duplicate node id, reports a leaving node as dead', async () => {
    const prefix = fleet();
    const a = await join(prefix, 'a', { leaseRefreshMs: 300 });
    const b = await join(prefix, 'b');
    await until(() => a.isNodeAlive('b') && b.isNodeAlive('a'), 5_000, 'leases seen');
    expect(b.epoch).toBeGreaterThan(a.epoch);
    const duplicate = await join(prefix, 'a').catch((e: unknown) => e);
    expect(isBridgeError(duplicate, 'BRIDGE_ERR_CLUSTER_NODE_ID_TAKEN')).toBe(true);
    const dead: string[] = [];
    a.onNodeDead((id, _lease, reason) => dead.push(`${id}:${reason}`));
    nodes.splice(nodes.indexOf(b), 1);
    await b.close();
    await until(() => dead.length > 0, 5_000, 'b reported gone');
    expect(dead).toEqual(['b:left']);
    expect(a.isNodeAlive('b')).toBe(false);
  });

  it('lets a node restart under its id right after a kill (its old lease is fresh but no longer refreshed)', async () => {
    const prefix = fleet();
    const observer = await join(prefix, 'o');
    const dead: string[] = [];
    observer.onNodeDead((id, lease, reason) => dead.push(`${id}:${reason}:${lease.epoch}`));
    const killed = await join(prefix, 'k', { leaseRefreshMs: 300 });
    await until(() => observer.isNodeAlive('k') && observer.lease('k')?.epoch === killed.epoch, 3_000, 'observer saw k');
    // A SIGKILL: no lease delete, no more refreshes.
    (killed as unknown as { refreshTimer: NodeJS.Timeout }).refreshTimer.close();
    nodes.splice(nodes.indexOf(killed), 1);
    await killed.nc.close();
    const restarted = await join(prefix, 'k', { leaseRefreshMs: 300 });
    expect(restarted.epoch).toBeGreaterThan(killed.epoch);
    // An observer that saw the old run learns it is over (its work can be taken over by epoch).
    await until(() => dead.some((d) => d === `k:restarted:${killed.epoch}`), 3_000, 'old run reported');
    expect(observer.isNodeAlive('k')).toBe(true);
  });

  it('reports a node whose lease stopped being refreshed as dead once its lease is older than the TTL', async () => {
    const prefix = fleet();
    const a = await join(prefix, 'a', { leaseTtlMs: 1_500, leaseRefreshMs: 300 });
    const b = await join(prefix, 'b', { leaseTtlMs: 1_500, leaseRefreshMs: 300 });
    await until(() => a.isNodeAlive('b'), 5_000, 'b alive');
    const dead: string[] = [];
    a.onNodeDead((id, _lease, reason) => dead.push(`${id}:${reason}`));
    // A frozen node: its connection stays, its refresh stops (the SIGSTOP case).
    (b as unknown as { refreshTimer: NodeJS.Timeout }).refreshTimer.close();
    await until(() => dead.length > 0, 6_000, 'b expired');
    expect(dead).toEqual(['b:expired']);
  });

  it('presence: a handshake elsewhere takes the device over and the old holder is told to close', async () => {
    const prefix = fleet();
    const a = await join(prefix, 'a');
    const b = await join(prefix, 'b');
    await until(() => a.isNodeAlive('b') && b.isNodeAlive('a'));
    const lostOnA: string[] = [];
    a.presence.onLost = (bot, device, by) => lostOnA.push(`${bot}/${device}:${by}`);
    const bot = '봇 이름.with dots';
    expect(await a.presence.claim(bot, 'dev-1')).toEqual({ tookOverFrom: null });
    await until(() => b.presence.holderOf(bot, 'dev-1') === 'a', 2_000, 'b sees a as holder');
    expect(b.presence.remoteHolders(bot, null).map((h) => h.node)).toEqual(['a']);
    expect(await b.presence.claim(bot, 'dev-1')).toEqual({ tookOverFrom: 'a' });
    await until(() => lostOnA.length > 0, 2_000, 'a told to close');
    expect(lostOnA).toEqual([`${bot}/dev-1:b`]);
    await until(() => a.presence.holderOf(bot, 'dev-1') === 'b');
    // The loser's disconnect must not remove the winner's entry (CAS delete with its old revision).
    await a.presence.release(bot, 'dev-1');
    await b.presence.release(bot, 'dev-1');
    await until(() => a.presence.holderOf(bot, 'dev-1') === null, 2_000, 'released');
  });

  it('presence: a node wrongly judged dead (a long pause) names itself again for the phones it still holds', async () => {
    const prefix = fleet();
    const a = await join(prefix, 'a');
    const b = await join(prefix, 'b');
    await until(() => a.isNodeAlive('b') && b.isNodeAlive('a'));
    await a.presence.claim('bot', 'kept');
    await a.presence.claim('bot', 'moved');
    await until(() => b.presence.holderOf('bot', 'moved') === 'a');
    const lostOnA: string[] = [];
    a.presence.onLost = (_bot, device) => lostOnA.push(device);
    // B judges A dead and removes its entries; meanwhile `moved` reconnected to B.
    (b.presence as unknown as { nodeGone(id: string): void }).nodeGone('a');
    await b.presence.claim('bot', 'moved');
    await until(() => b.presence.holderOf('bot', 'kept') === 'a', 3_000, 'A restored kept');
    await until(() => lostOnA.includes('moved'), 3_000, 'A let moved go');
    expect(b.presence.holderOf('bot', 'moved')).toBe('b');
    expect(lostOnA).toEqual(['moved']);
  });

  it('presence: simultaneous handshakes on three nodes leave exactly one holder, every other node lets go', async () => {
    const prefix = fleet();
    const all = [await join(prefix, 'a'), await join(prefix, 'b'), await join(prefix, 'c')];
    await until(() => all.every((n) => all.every((m) => n.isNodeAlive(m.nodeId))));
    const holding = new Set<string>();
    for (const node of all) node.presence.onLost = () => holding.delete(node.nodeId);
    await Promise.all(all.flatMap((node) => Array.from({ length: 5 }, async () => {
      holding.add(node.nodeId);
      await node.presence.claim('bot', 'contended');
    })));
    await until(() => holding.size === 1, 3_000, 'one holder left');
    const [winner] = [...holding];
    await until(() => all.every((n) => n.presence.holderOf('bot', 'contended') === winner), 2_000, 'every node agrees');
  });
});
