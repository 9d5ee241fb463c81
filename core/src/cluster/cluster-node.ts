/**
 * One botbridge node's membership in a fleet coordinated through NATS (docs/cluster.md).
 * NATS carries coordination only; durable state (journal, outbox, approvals) stays in SQL.
 *
 * Interface for the other cluster parts (failover, workers); keep it stable:
 *
 *   const node = await ClusterNode.join({ url, nodeId, prefix, leaseTtlMs, leaseRefreshMs, ... });
 *   node.nodeId                  this node's id
 *   node.epoch                   fleet-unique, increasing number of this run (the lease's first
 *                                JetStream revision): carry it into SQL writes as a fence
 *   node.natsState               'connected' | 'disconnected' | 'closed'
 *   node.isNodeAlive(id)         lease seen within leaseTtlMs (age check, not only the TTL: an
 *                                old server deletes expired keys silently)
 *   node.onNodeDead(fn)          fn(nodeId, lease, reason: 'expired' | 'left' | 'restarted') once
 *                                per dead run (`lease.epoch` names the run; 'restarted': a new
 *                                run under the same id appeared first); returns a disposer. Never called while this node is away from
 *                                NATS, nor within one refresh after it is back (its view is stale)
 *   node.nodes()                 the leases of live nodes (this one included)
 *   node.lease(id)               a node's last lease value, alive or not
 *   node.onStateChange(fn)       fn(natsState) on every NATS connection change
 *   node.nc                      the NATS connection (request/reply, publish)
 *   node.names                   bucket and subject names of this fleet (cluster-keys.ts)
 *   node.presence                (bot, device) → holder (presence.ts)
 *   await node.close()           deletes the lease ('left' for the others), drains NATS
 */
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { BridgeError, reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import { clusterNames, type ClusterNames } from './cluster-keys.js';
import { KvMirror } from './kv-mirror.js';
import { Presence } from './presence.js';

export interface NodeLease {
  readonly node: string;
  readonly startedAt: number;
  readonly epoch: number;
  /** The admin HTTP server's URL, when it listens. */
  readonly admin: string | null;
  /** The bot port (`host:port`). */
  readonly listen: string | null;
  readonly clients: number;
  /** The holder's refresh interval (a restarting node with the same id waits this long to tell a live holder from a dead one). */
  readonly refreshMs: number;
  /** When the holder wrote this value (its clock; liveness is judged by when it was seen). */
  readonly at: number;
}

export type NatsState = 'connected' | 'disconnected' | 'closed';
/** expired: lease too old; left: deleted at a graceful stop; restarted: a new run (epoch) took the id over. */
export type NodeDeathReason = 'expired' | 'left' | 'restarted';

export interface ClusterOptions {
  readonly url: string;
  readonly nodeId: string;
  readonly prefix: string;
  readonly leaseTtlMs: number;
  readonly leaseRefreshMs: number;
  readonly connectTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly log: CoreLogger;
  /** What this node's lease says besides its id (read at every refresh). */
  readonly leaseInfo?: () => { admin: string | null; listen: string | null; clients: number };
}

type LeaseSeen = { lease: NodeLease; seenAt: number; dead: boolean };

export class ClusterNode {
  readonly names: ClusterNames;
  private state: NatsState = 'connected';
  /** close() has begun: the connection closing is the shutdown, not a loss. */
  private closing = false;
  /** The notices' own connection (noEcho), opened at join (see join). */
  noticesNc: NatsConnection | undefined;
  private peerCheckedAt = -Infinity;
  private peerAlive = false;
  private readonly leasesSeen = new Map<string, LeaseSeen>();
  private readonly deathListeners = new Set<(nodeId: string, lease: NodeLease, reason: NodeDeathReason) => void>();
  private readonly stateListeners = new Set<(state: NatsState) => void>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private judgeTimer: NodeJS.Timeout | undefined;
  /** Deaths are not judged before this (start, and one refresh after NATS is back). */
  private judgeAfter: number;
  private leaseMirror!: KvMirror<NodeLease>;
  private leases!: KV;
  epoch = 0;
  private readonly startedAt = Date.now();
  presence!: Presence;

  private constructor(
    readonly nc: NatsConnection,
    private readonly options: ClusterOptions,
  ) {
    this.names = clusterNames(options.prefix);
    this.judgeAfter = Date.now() + options.leaseRefreshMs;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  get natsState(): NatsState {
    return this.state;
  }

  /**
   * Connects to NATS, opens (or creates) the lease and presence buckets, takes this node's lease
   * and mirrors both buckets. Throws BRIDGE_ERR_CLUSTER_CONNECT when NATS or JetStream does not
   * answer, BRIDGE_ERR_CLUSTER_NODE_ID_TAKEN when a live node holds this id.
   */
  static async join(options: ClusterOptions): Promise<ClusterNode> {
    let nc: NatsConnection;
    try {
      nc = await connect(connectOptions(options, `botbridge:${options.nodeId}`));
    } catch (error) {
      throw new BridgeError('BRIDGE_ERR_CLUSTER_CONNECT', { url: options.url, reason: reasonOf(error) }, { cause: error });
    }
    const node = new ClusterNode(nc, options);
    try {
      // The done and admission notices (one small message per turn under load) on a connection
      // of their own with noEcho: a node's own notices are never delivered back to it, which
      // would cost NATS and this process a delivery each for nothing.
      node.noticesNc = await connect({ ...connectOptions(options, `botbridge:${options.nodeId}:notices`), noEcho: true });
      await node.open();
    } catch (error) {
      await node.noticesNc?.close().catch(() => undefined);
      await nc.close().catch(() => undefined);
      if (error instanceof BridgeError) throw error;
      throw new BridgeError('BRIDGE_ERR_CLUSTER_CONNECT', { url: options.url, reason: `JetStream: ${reasonOf(error)}` }, { cause: error });
    }
    return node;
  }

  private async open(): Promise<void> {
    const { leaseTtlMs, connectTimeoutMs, nodeId, log } = this.options;
    const kvm = new Kvm(this.nc);
    // Bucket TTL (max_age), not per-key TTL: NATS < 2.11 has neither per-message TTL nor
    // delete markers, so an expiry is silent and liveness is judged by the lease's age too.
    this.leases = await withTimeout(kvm.create(this.names.leaseBucket, { ttl: leaseTtlMs, history: 1, timeout: connectTimeoutMs }), connectTimeoutMs, 'lease bucket');
    const presenceKv = await withTimeout(kvm.create(this.names.presenceBucket, { history: 1, timeout: connectTimeoutMs }), connectTimeoutMs, 'presence bucket');
    await this.checkIdFree();
    // The first write's revision is this run's epoch; the second carries it in the value.
    this.epoch = await this.leases.put(nodeId, this.encodeLease());
    await this.leases.put(nodeId, this.encodeLease());
    this.leaseMirror = new KvMirror<NodeLease>(this.leases, decodeLease, (key, value) => this.leaseChanged(key, value));
    await this.leaseMirror.start(connectTimeoutMs);
    this.presence = new Presence({ kv: presenceKv, nodeId, epoch: this.epoch, isNodeAlive: (id) => this.isNodeAlive(id), connected: () => this.state === 'connected', log });
    await this.presence.start(connectTimeoutMs);
    this.refreshTimer = setInterval(() => void this.refresh(), this.options.leaseRefreshMs);
    this.refreshTimer.unref();
    this.judgeTimer = setInterval(() => this.judge(), Math.min(1_000, this.options.leaseRefreshMs));
    this.judgeTimer.unref();
    void this.watchStatus();
    log.info({ nats: this.nc.getServer(), epoch: this.epoch, nodes: this.nodes().map((n) => n.node) }, 'cluster: joined');
  }

  /**
   * A fresh lease under this id is either a live node with the same id (refused) or this node's
   * previous run, killed less than a TTL ago (a restart after SIGKILL). A live node refreshes
   * within `leaseRefreshMs`: wait that long once and look again.
   */
  private async checkIdFree(): Promise<void> {
    const { nodeId, leaseTtlMs, leaseRefreshMs } = this.options;
    const existing = await this.leases.get(nodeId);
    if (!existing || existing.operation !== 'PUT' || Date.now() - existing.created.getTime() >= leaseTtlMs) return;
    const refreshMs = decodeLease(existing)?.refreshMs ?? leaseRefreshMs;
    const waitMs = Math.min(leaseTtlMs, refreshMs + 1_000);
    this.options.log.info({ waitMs }, 'cluster: a recent lease holds this node id; waiting one refresh to tell a live node from a previous run');
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    const again = await this.leases.get(nodeId);
    if (again && again.operation === 'PUT' && again.revision !== existing.revision) {
      throw new BridgeError('BRIDGE_ERR_CLUSTER_NODE_ID_TAKEN', { nodeId, ageMs: Math.max(0, Date.now() - again.created.getTime()) });
    }
  }

  private encodeLease(): string {
    const info = this.options.leaseInfo?.() ?? { admin: null, listen: null, clients: 0 };
    const lease: NodeLease = { node: this.options.nodeId, startedAt: this.startedAt, epoch: this.epoch, ...info, refreshMs: this.options.leaseRefreshMs, at: Date.now() };
    return JSON.stringify(lease);
  }

  private async refresh(): Promise<void> {
    if (this.state !== 'connected') return;
    try {
      await this.leases.put(this.options.nodeId, this.encodeLease());
    } catch (error) {
      this.options.log.warn({ err: reasonOf(error) }, 'cluster: lease refresh failed');
    }
  }

  private leaseChanged(key: string, value: NodeLease | null): void {
    const seen = this.leasesSeen.get(key);
    if (value === null) {
      // Deleted: a graceful leave (close() deletes its lease). A TTL expiry on this server is silent.
      if (seen && !seen.dead && key !== this.options.nodeId) this.declareDead(key, seen, 'left');
      return;
    }
    // A run's very first write (its epoch is that write's revision, in the value from the
    // second write on) says nothing about the run we know under this id.
    if (value.epoch === 0 && seen && !seen.dead) return;
    // The same id with another epoch: the run we knew is over (killed and restarted within a TTL).
    if (seen && !seen.dead && seen.lease.epoch !== 0 && value.epoch !== 0 && value.epoch !== seen.lease.epoch && key !== this.options.nodeId) {
      this.declareDead(key, seen, 'restarted');
    }
    // When NATS stored it (a stale lease of a dead node is old at start), never later than now.
    const seenAt = Math.min(Date.now(), this.leaseMirror?.get(key)?.created ?? Date.now());
    this.leasesSeen.set(key, { lease: value, seenAt, dead: false });
  }

  private judge(): void {
    if (this.state !== 'connected' || Date.now() < this.judgeAfter) return;
    const now = Date.now();
    for (const [id, seen] of this.leasesSeen) {
      if (seen.dead || id === this.options.nodeId) continue;
      if (now - seen.seenAt > this.options.leaseTtlMs) this.declareDead(id, seen, 'expired');
    }
  }

  private declareDead(id: string, seen: LeaseSeen, reason: NodeDeathReason): void {
    seen.dead = true;
    this.leaseMirror.forget(id);
    this.options.log.warn({ deadNode: id, reason, lastSeenMsAgo: Date.now() - seen.seenAt }, 'cluster: node is gone');
    this.presence.nodeGone(id, seen.lease.epoch);
    for (const listener of this.deathListeners) {
      try {
        listener(id, seen.lease, reason);
      } catch (error) {
        this.options.log.error({ err: reasonOf(error), deadNode: id }, 'cluster: onNodeDead listener threw');
      }
    }
  }

  isNodeAlive(nodeId: string): boolean {
    if (nodeId === this.options.nodeId) return this.state !== 'closed';
    const seen = this.leasesSeen.get(nodeId);
    return seen !== undefined && !seen.dead && Date.now() - seen.seenAt <= this.options.leaseTtlMs;
  }

  onNodeDead(listener: (nodeId: string, lease: NodeLease, reason: NodeDeathReason) => void): () => void {
    this.deathListeners.add(listener);
    return () => this.deathListeners.delete(listener);
  }

  onStateChange(listener: (state: NatsState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  lease(nodeId: string): NodeLease | null {
    return this.leasesSeen.get(nodeId)?.lease ?? null;
  }

  /**
   * Whether another node is alive now (re-judged at most every 250 ms: asked per message by
   * the done and admission notices, which nobody could use while this node is alone).
   */
  hasLivePeer(): boolean {
    const now = Date.now();
    if (now - this.peerCheckedAt >= 250) {
      this.peerCheckedAt = now;
      this.peerAlive = false;
      for (const id of this.leasesSeen.keys()) {
        if (id !== this.options.nodeId && this.isNodeAlive(id)) {
          this.peerAlive = true;
          break;
        }
      }
    }
    return this.peerAlive;
  }

  nodes(): NodeLease[] {
    const out: NodeLease[] = [];
    for (const [id, seen] of this.leasesSeen) if (this.isNodeAlive(id)) out.push(seen.lease);
    return out;
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.setState('disconnected');
      else if (status.type === 'reconnect') {
        // Others' refreshes were not seen while away: judge nobody until one refresh has come in.
        this.judgeAfter = Date.now() + this.options.leaseRefreshMs * 1.5;
        for (const seen of this.leasesSeen.values()) if (!seen.dead) seen.seenAt = Date.now();
        this.setState('connected');
        void this.refresh();
        void this.presence.republish();
      } else if (status.type === 'close') this.setState('closed');
    }
  }

  private setState(state: NatsState): void {
    if (this.state === state) return;
    this.state = state;
    if (state === 'closed' && this.closing) this.options.log.info({ nats: state }, 'cluster: NATS connection closed (shutdown)');
    else if (state === 'connected') this.options.log.warn({ nats: state }, 'cluster: NATS is back; lease and presence re-published');
    else this.options.log.error({ nats: state }, 'cluster: NATS lost; serving this node\'s own phones only until it is back');
    for (const listener of this.stateListeners) listener(state);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.refreshTimer);
    clearInterval(this.judgeTimer);
    this.leaseMirror?.stop();
    this.presence?.stop();
    if (this.state === 'connected') {
      await withTimeout(this.leases.delete(this.options.nodeId), 1_000, 'lease delete').catch(() => undefined);
    }
    const notices = this.noticesNc;
    if (notices !== undefined) await withTimeout(notices.drain(), 2_000, 'notices drain').catch(() => notices.close());
    await withTimeout(this.nc.drain(), 2_000, 'drain').catch(() => this.nc.close());
  }
}

function decodeLease(entry: KvEntry): NodeLease | null {
  try {
    return entry.json<NodeLease>();
  } catch {
    return null;
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A node's NATS connections: a server process, not a script (reconnect forever, notice a dead link within ~2 pings). */
function connectOptions(options: ClusterOptions, name: string): ConnectionOptions {
  return {
    servers: options.url.split(',').map((s) => s.trim()).filter(Boolean),
    name,
    timeout: options.connectTimeoutMs,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: options.pingIntervalMs,
    maxPingOut: 2,
  };
}
