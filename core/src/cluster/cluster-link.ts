import { headers, NoRespondersError, RequestError, type Msg, type Subscription } from '@nats-io/transport-node';
import type { BridgeSettings, ClientInfo, OutgoingReply, Reply, ReplyTarget, SendResult } from '@botbridge/sdk';
import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { Counters } from '../metrics/counters.js';
import type { JournalKey } from '../store/types.js';
import { ClusterNode, type NatsState } from './cluster-node.js';
import { AdmittedMemory } from './admitted-memory.js';
import { DoneNotices } from './done-notices.js';

/** How long a hop waits before its one retry after "no responders" (interest lag after a takeover). */
const NO_RESPONDERS_RETRY_MS = 50;
const TRACE_HEADER = 'Botbridge-Trace';
/** A handshake's question to the device's previous node waits at most this long (cluster.requestTimeoutMs if shorter). */
const ALIVE_TIMEOUT_MS = 500;

export type ClusterSettings = NonNullable<BridgeSettings['cluster']> & { readonly nodeId: string };

/** An approval change announced on NATS: every node re-reads that row from SQL. */
export interface ApprovalChange {
  readonly kind: 'device' | 'room';
  readonly botName: string;
  readonly id: string;
  /** The node that announced it (it skips its own announcement: its cache is already current). */
  readonly from?: string;
  /** `connect`: a device completed a handshake there; nodes that already know the device skip it. */
  readonly reason?: 'connect';
}

/** The fields of OutgoingReply that cross a hop (the message context stays on its node). */
interface HopRequest {
  readonly reply: Reply;
  readonly target: ReplyTarget;
  readonly traceId: string;
  readonly index: number;
  /** The device the origin would have preferred (the message's), else any device of the bot. */
  readonly from: string;
  /** A proactive send (no message behind it): paced by the holder's send governor. */
  readonly proactive?: boolean;
  /** A scheduled message (v3.3 phones get a `scheduleMessage` packet). */
  readonly scheduled?: boolean;
}

export interface ClusterLinkDeps {
  readonly settings: ClusterSettings;
  readonly log: CoreLogger;
  readonly counters: Counters;
  /** This node's own clients (not the fleet's). */
  readonly localClients: () => ClientInfo[];
  /** A reply routed here by another node: delivered to this node's devices only, never hopped again. */
  /** `paced`: a proactive send, which waits its turn in this node's send governor; a reply does not. */
  readonly deliverHere: (out: OutgoingReply, paced: boolean) => SendResult | Promise<SendResult>;
  /** Another node took this device over: close its connection here (BRIDGE_ERR_REPLACED). */
  readonly closeDevice: (botName: string, deviceId: string) => void;
  /** An operator on another node disconnected this device (BRIDGE_ERR_ADMIN_DISCONNECT); false when it is not here. */
  readonly adminDisconnect: (botName: string, deviceId: string) => boolean;
  /** An approval changed on another node or in the CLI: re-read it from SQL. */
  readonly refreshApproval: (change: ApprovalChange) => Promise<void>;
  /** A device of this bot was connected on another node: this node's outbox backlog of the bot can go through it. */
  readonly remoteDevice?: (botName: string) => void;
  readonly leaseInfo: () => { admin: string | null; listen: string | null; clients: number };
}

/**
 * What a botbridge node does with its ClusterNode (docs/cluster.md): presence on connect and
 * disconnect, replies for devices held elsewhere delivered through their holder, approval
 * events, fleet-wide client lists. Loaded only in cluster mode (`import()` from Bridge.start),
 * so a single node never loads NATS.
 */
export class ClusterLink {
  private readonly subscriptions: Subscription[] = [];
  /**
   * Done notices: this node's answered messages and delivered outbox rows, published as they
   * are written; the other nodes' remembered, so adopting a dead node's rows skips what it
   * had already answered (done-notices.ts).
   */
  readonly notices: DoneNotices;
  /**
   * The other nodes' admissions not yet answered (their admission notices, until the done
   * notice): adopting a dead node's rows first restores these into SQL (admitted-memory.ts).
   */
  readonly admissions: AdmittedMemory;

  private constructor(
    readonly node: ClusterNode,
    private readonly deps: ClusterLinkDeps,
  ) {
    this.admissions = new AdmittedMemory({
      onForgotten: (reason, count) => deps.counters.inc('cluster', `admission_${reason}`, count),
    });
    this.notices = new DoneNotices({
      admissions: this.admissions,
      nc: node.noticesNc ?? node.nc,
      nodeId: node.nodeId,
      subject: node.names.doneNotices(node.nodeId),
      wildcard: node.names.allDoneNotices,
      querySubject: node.names.doneQuery,
      connected: () => node.natsState === 'connected',
      peers: () => node.hasLivePeer(),
    });
  }

  /**
   * A restart under this node's id: which of the rows its previous run left unanswered the
   * other live nodes heard announced done (its previous run's notices). Indices into `keys`;
   * empty when no other node is alive or NATS is away.
   */
  async answeredBeforeRestart(keys: readonly JournalKey[]): Promise<Set<number>> {
    const others = this.node.nodes().filter((lease) => lease.node !== this.nodeId).length;
    if (keys.length === 0 || others === 0 || this.node.natsState !== 'connected') return new Set();
    return this.notices.askAnswered(keys, others, this.deps.settings.fleetTimeoutMs);
  }

  static async join(deps: ClusterLinkDeps): Promise<ClusterLink> {
    const s = deps.settings;
    const node = await ClusterNode.join({
      url: s.url,
      nodeId: s.nodeId,
      prefix: s.prefix,
      leaseTtlMs: s.leaseTtlMs,
      leaseRefreshMs: s.leaseRefreshMs,
      connectTimeoutMs: s.connectTimeoutMs,
      pingIntervalMs: s.pingIntervalMs,
      log: deps.log,
      leaseInfo: deps.leaseInfo,
    });
    const link = new ClusterLink(node, deps);
    link.listen();
    return link;
  }

  get nodeId(): string {
    return this.node.nodeId;
  }

  private listen(): void {
    const { nc, names, presence } = this.node;
    presence.onRemoteHolder = (botName) => this.deps.remoteDevice?.(botName);
    presence.onLost = (botName, deviceId) => {
      this.deps.counters.inc('cluster', 'device_lost');
      this.deps.closeDevice(botName, deviceId);
    };
    this.subscriptions.push(
      nc.subscribe(names.deliver(this.nodeId), { callback: (error, msg) => { if (!error) void this.answerHop(msg); } }),
      nc.subscribe(names.disconnect(this.nodeId), { callback: (error, msg) => { if (!error) this.answerDisconnect(msg); } }),
      nc.subscribe(names.alive(this.nodeId), { callback: (error, msg) => { if (!error) msg.respond(JSON.stringify({ node: this.nodeId, epoch: this.node.epoch })); } }),
      nc.subscribe(names.clients, { callback: (error, msg) => { if (!error) msg.respond(JSON.stringify({ node: this.nodeId, clients: this.ownClients() })); } }),
      nc.subscribe(names.approvals, { callback: (error, msg) => { if (!error) void this.approvalChanged(msg); } }),
    );
  }

  /** A handshake completed here: this node holds (bot, device) fleet-wide from now on. */
  sessionReady(botName: string, deviceId: string): void {
    // A device first seen here was just registered (or auto-approved) in SQL: the other nodes
    // re-read its row now, so they can queue replies for its bot at once.
    this.publishApproval({ kind: 'device', botName, id: deviceId, reason: 'connect' });
    this.node.presence.claim(botName, deviceId).then(({ tookOverFrom }) => {
      if (tookOverFrom === null) return;
      this.deps.counters.inc('cluster', 'takeover');
      this.deps.log.info({ botName, deviceId, from: tookOverFrom }, 'cluster: device taken over from another node');
    }, (error: unknown) => {
      // NATS away: the phone is served anyway; presence is re-published when NATS is back.
      this.deps.log.warn({ botName, deviceId, err: reasonOf(error) }, 'cluster: presence not written');
    });
  }

  /** The device's last connection here closed (not replaced by another connection here). */
  sessionGone(botName: string, deviceId: string): void {
    this.node.presence.release(botName, deviceId).catch((error: unknown) => {
      this.deps.log.warn({ botName, deviceId, err: reasonOf(error) }, 'cluster: presence not removed');
    });
  }

  /**
   * A reply no device of this node can take: delivered through a live node holding a device of
   * the bot (the message's device first). Resolves null when no other node holds one (the caller
   * decides: outbox or rejection), else with the holder's own result (written, queued on the
   * holder, rejected). "No responders" is retried once after 50 ms (interest can lag a takeover).
   */
  async deliverRemote(out: OutgoingReply): Promise<SendResult | null> {
    if (this.node.natsState !== 'connected') return null;
    const holders = this.node.presence.remoteHolders(out.target.botName, out.target.deviceId ?? null);
    const tried = new Set<string>();
    for (const holder of holders) {
      if (tried.has(holder.node)) continue;
      tried.add(holder.node);
      const result = await this.hop(holder.node, out);
      if (result !== null) return result;
    }
    return null;
  }

  /**
   * The hop to the node holding the reply's own device, when that is another live node; null
   * (synchronously, no promise) when no other node holds it. Resolves null when the holder had
   * no device after all.
   */
  deliverToDevice(out: OutgoingReply): Promise<SendResult | null> | null {
    const deviceId = out.target.deviceId;
    if (!deviceId || this.node.natsState !== 'connected') return null;
    const holder = this.node.presence.holderOf(out.target.botName, deviceId);
    if (holder === null || holder === this.nodeId) return null;
    return this.hop(holder, out);
  }

  private async hop(nodeId: string, out: OutgoingReply): Promise<SendResult | null> {
    const body: HopRequest = {
      reply: out.reply, target: out.target, traceId: out.traceId, index: out.index, from: this.nodeId,
      proactive: out.message === null, ...(out.scheduled === true ? { scheduled: true } : {}),
    };
    const payload = JSON.stringify(body);
    const h = headers();
    h.set(TRACE_HEADER, out.traceId);
    const subject = this.node.names.deliver(nodeId);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const answer = await this.node.nc.request(subject, payload, { timeout: this.deps.settings.requestTimeoutMs, headers: h });
        const result = answer.json<SendResult | null>();
        this.deps.counters.inc('cluster', result === null ? 'hop_no_client' : `hop_${result.status}`);
        return result;
      } catch (error) {
        if (isNoResponders(error) && attempt === 0) {
          await new Promise((resolve) => setTimeout(resolve, NO_RESPONDERS_RETRY_MS));
          continue;
        }
        if (isNoResponders(error)) {
          this.deps.counters.inc('cluster', 'hop_no_responders');
          return null;
        }
        this.deps.counters.inc('cluster', 'hop_failed');
        this.deps.log.warn({ node: nodeId, traceId: out.traceId, botName: out.target.botName, room: out.target.room, err: reasonOf(error), code: 'BRIDGE_ERR_CLUSTER_UNAVAILABLE' }, 'cluster: the holder node did not answer a reply hop');
        return { status: 'rejected', traceId: out.traceId, reason: 'cluster_timeout' };
      }
    }
    return null;
  }

  /** The holder's side of a hop: this node's devices only; null when none could take it (the origin queues it). */
  private async answerHop(msg: Msg): Promise<void> {
    let body: HopRequest;
    try {
      body = msg.json<HopRequest>();
    } catch {
      return;
    }
    this.deps.counters.inc('cluster', 'hop_served');
    try {
      const hopped: OutgoingReply = { reply: body.reply, target: body.target, traceId: body.traceId, index: body.index, message: null, ...(body.scheduled === true ? { scheduled: true } : {}) };
      const result = await this.deps.deliverHere(hopped, body.proactive !== false);
      const noClient = result.status === 'rejected' && result.reason === 'no_client';
      msg.respond(JSON.stringify(noClient ? null : result));
      this.deps.log.debug({ traceId: body.traceId, from: body.from, botName: body.target.botName, room: body.target.room, status: noClient ? 'no_client' : result.status }, 'cluster: reply delivered for another node');
    } catch (error) {
      this.deps.log.error({ traceId: body.traceId, from: body.from, err: reasonOf(error) }, 'cluster: delivering a hopped reply failed');
      msg.respond(JSON.stringify(null));
    }
  }

  /**
   * A handshake here: whether the node presence names as the device's previous holder is gone,
   * found out now rather than when its lease expires (`leaseTtlMs`). The previous holder is
   * asked directly on its own subject: when its NATS connection is gone (a killed process),
   * NATS answers "no responders" at once; that answer is retried once after 50 ms (interest can
   * lag). Resolves the dead node's id, or null: nobody else held the device, its holder
   * answered (alive, or a new run under its id, which claims its own rows), it did not answer
   * within 500 ms (unknown: its lease decides), or this node is away from NATS.
   *
   * Caveat (docs/cluster.md, "Failover"): a holder alive but cut off from NATS looks dead here,
   * as it does to its lease a few seconds later; the messages it is still working on are then
   * answered by it and by this node.
   */
  async previousHolderGone(botName: string, deviceId: string): Promise<string | null> {
    if (this.node.natsState !== 'connected') return null;
    const entry = this.node.presence.entryOf(botName, deviceId);
    if (entry === undefined || entry.node === this.nodeId) return null;
    // Its lease already expired: the death notice adopts its rows; this device's are claimed now too.
    if (!this.node.isNodeAlive(entry.node)) return entry.node;
    const subject = this.node.names.alive(entry.node);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        // A live node answers within milliseconds; a silent one is "unknown" (its lease decides),
        // so the phone's handshake waits no longer than this for the question.
        await this.node.nc.request(subject, '', { timeout: Math.min(this.deps.settings.requestTimeoutMs, ALIVE_TIMEOUT_MS) });
        return null;
      } catch (error) {
        if (!isNoResponders(error)) return null;
        if (attempt === 0) await new Promise((resolve) => setTimeout(resolve, NO_RESPONDERS_RETRY_MS));
      }
    }
    this.deps.counters.inc('cluster', 'holder_gone');
    this.deps.log.warn({ botName, deviceId, deadNode: entry.node }, 'cluster: the device\'s previous node does not answer; taking its unanswered messages of this device over now');
    return entry.node;
  }

  /** Whether a live node other than this one holds a device of the bot. */
  holdsBot(botName: string): boolean {
    return this.node.natsState === 'connected' && this.node.presence.remoteHolders(botName, null).length > 0;
  }

  /** Closes a device's connection on the node holding it; false when no live node does. */
  async disconnectRemote(botName: string, deviceId: string): Promise<boolean> {
    const node = this.node.presence.holderOf(botName, deviceId);
    if (node === null || node === this.nodeId || this.node.natsState !== 'connected') return false;
    try {
      const answer = await this.node.nc.request(this.node.names.disconnect(node), JSON.stringify({ botName, deviceId }), { timeout: this.deps.settings.requestTimeoutMs });
      return answer.json<boolean>() === true;
    } catch (error) {
      this.deps.log.warn({ node, botName, deviceId, err: reasonOf(error) }, 'cluster: remote disconnect not confirmed');
      return false;
    }
  }

  private answerDisconnect(msg: Msg): void {
    let ids: { botName: string; deviceId: string };
    try {
      ids = msg.json<{ botName: string; deviceId: string }>();
    } catch {
      return;
    }
    const done = typeof ids.botName === 'string' && typeof ids.deviceId === 'string' && this.deps.adminDisconnect(ids.botName, ids.deviceId);
    if (done) this.deps.log.info({ botName: ids.botName, deviceId: ids.deviceId }, 'client disconnected through another node\'s admin API');
    msg.respond(JSON.stringify(done));
  }

  /** Announces an approval change to every node (they re-read it from SQL). */
  publishApproval(change: ApprovalChange): void {
    if (this.node.natsState !== 'connected') return;
    this.node.nc.publish(this.node.names.approvals, JSON.stringify({ ...change, from: this.nodeId }));
  }

  private async approvalChanged(msg: Msg): Promise<void> {
    let change: ApprovalChange;
    try {
      change = msg.json<ApprovalChange>();
    } catch {
      return;
    }
    if ((change.kind !== 'device' && change.kind !== 'room') || typeof change.botName !== 'string' || typeof change.id !== 'string') return;
    if (change.from === this.nodeId) return;
    this.deps.counters.inc('cluster', 'approval_event');
    await this.deps.refreshApproval(change).catch((error: unknown) => {
      this.deps.log.warn({ ...change, err: reasonOf(error) }, 'cluster: approval change not re-read (the poll will pick it up)');
    });
  }

  private ownClients(): ClientInfo[] {
    return this.deps.localClients().map((c) => ({ ...c, node: this.nodeId }));
  }

  /**
   * Every node's clients, each with its node id: this node's at once, the others' by one
   * scatter-gather request, waiting for each live node at most `cluster.fleetTimeoutMs`. A node
   * that does not answer in time is missing from the list (logged), never waited for longer.
   */
  async fleetClients(): Promise<ClientInfo[]> {
    const own = this.ownClients();
    if (this.node.natsState !== 'connected') return own;
    const expected = new Set(this.node.nodes().map((n) => n.node));
    expected.delete(this.nodeId);
    if (expected.size === 0) return own;
    const out = [...own];
    try {
      // Every node answers, this one too: `count` ends the wait as soon as all live nodes did.
      const replies = await this.node.nc.requestMany(this.node.names.clients, '', {
        strategy: 'count',
        maxMessages: expected.size + 1,
        maxWait: this.deps.settings.fleetTimeoutMs,
      });
      for await (const reply of replies) {
        let answer: { node: string; clients: ClientInfo[] };
        try {
          answer = reply.json<{ node: string; clients: ClientInfo[] }>();
        } catch {
          continue;
        }
        if (answer.node === this.nodeId || !expected.delete(answer.node)) continue;
        out.push(...answer.clients);
      }
    } catch (error) {
      this.deps.log.warn({ err: reasonOf(error) }, 'cluster: fleet client list incomplete');
    }
    if (expected.size > 0) this.deps.log.warn({ missing: [...expected] }, 'cluster: nodes did not answer the fleet client list in time');
    return out;
  }

  status(): { node: string; nats: NatsState; state: 'ok' | 'degraded'; nodes: number } {
    const nats = this.node.natsState;
    return { node: this.nodeId, nats, state: nats === 'connected' ? 'ok' : 'degraded', nodes: nats === 'connected' ? this.node.nodes().length : 1 };
  }

  async close(): Promise<void> {
    this.notices.close();
    for (const sub of this.subscriptions.splice(0)) sub.unsubscribe();
    await this.node.close();
  }
}

function isNoResponders(error: unknown): boolean {
  return error instanceof NoRespondersError || (error instanceof RequestError && error.isNoResponders());
}
