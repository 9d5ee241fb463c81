import type { BridgeSettings, OutgoingReply, Reply, SendResult, SentReply } from '@botbridge/sdk';
import { eventTime, type EventBus } from '../events/bridge-events.js';
import type { CoreLogger } from '../logger.js';
import type { Counters } from '../metrics/counters.js';
import { MEDIA_PREFIX, MEDIA_SEPARATOR, type MessageResponseMessage } from '../protocol/codec.js';
import type { ClientSession } from '../session/client-session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import type { Outbox } from './outbox.js';
import { roomKeyOf } from './outbox-room.js';
import { SendGovernor } from './send-governor.js';

/** JSON envelope of a messageResponse around its text, generously counted. */
const ENVELOPE_BYTES = 512;
/** An outbox backlog waits for the socket to drain once this much output (or half the limit) is pending. */
const BACKLOG_PENDING_BYTES = 256 * 1024;
const BACKLOG_FLUSH_TIMEOUT_MS = 10_000;

/**
 * Turns replies into `messageResponse` packets (docs/protocol.md) and writes them to a live client
 * of the bot: the device the message came from, or, if it went away, another live device of the
 * same bot (the phone posts by room name, so any device logged into the bot's account works).
 * The session writes the packet in its phone's protocol (v3.2 or v3.3). Nothing is truncated: a
 * reply over the limits is refused (`rejected`, `too_long`) and the plugin sees it.
 */
export class Outbound {
  /** Paces proactive sends where the socket is written (replies.governor); null when disabled. */
  private readonly governor: SendGovernor | null;

  constructor(
    private readonly deps: {
      readonly registry: SessionRegistry;
      readonly counters: Counters;
      readonly log: CoreLogger;
      readonly settings: BridgeSettings;
      readonly events: EventBus;
      /** Keeps replies for a bot with no live device (replies.outbox.enabled); absent: they are rejected. */
      readonly outbox?: Outbox;
      /** The room's reply gap (per-bot settings): the governor's default room gap. */
      readonly replyGapMs?: (sequencerKey: string) => number;
      /**
       * Cluster mode only: delivers a reply through another node holding a live device of the bot
       * (null: no other node holds one). Absent on a single node, so that path costs nothing.
       */
      readonly remote?: (out: OutgoingReply) => Promise<SendResult | null>;
      /**
       * Cluster mode only: the hop to the node holding the message's own device (`target.deviceId`),
       * or null (synchronously) when no other live node holds it. Resolves null when the holder
       * had no device after all. A reply prefers its phone wherever it is over another device of
       * the bot on this node (an adopted message's phone reconnected to another node).
       */
      readonly remoteDevice?: (out: OutgoingReply) => Promise<SendResult | null> | null;
    },
  ) {
    const governor = deps.settings.replies.governor;
    this.governor = !governor.enabled ? null : new SendGovernor({
      settings: governor,
      replyGapMs: deps.replyGapMs ?? (() => deps.settings.pipeline.replyGapMs),
      deviceOf: (out) => {
        const route = this.route(out);
        return typeof route === 'string' ? null : route.deviceId;
      },
      park: (out) => this.park(out),
      events: deps.events,
    });
  }

  /** Whether this reply waits in the governor (a proactive send): its room's reply chain must not wait for it. */
  paces(out: OutgoingReply): boolean {
    return this.governor !== null && out.message === null;
  }

  /** Shutdown: waiting proactive sends are parked in the outbox (`immediate`), or waited for. */
  drainPaced(options: { immediate?: boolean } = {}): Promise<void> {
    return this.governor?.drain(options) ?? Promise.resolve();
  }

  governorStats(): { queued: number; rooms: number } {
    return this.governor?.stats() ?? { queued: 0, rooms: 0 };
  }

  /** Why the phone could not take this reply whole (`too_long`, `invalid`), or null when it can. */
  refusal(reply: Reply): 'too_long' | 'invalid' | null {
    if (reply.kind === 'text') return reply.text.length > this.deps.settings.replies.maxTextLength ? 'too_long' : null;
    if (reply.items.length === 0) return 'invalid';
    let bytes = MEDIA_PREFIX[reply.form].length;
    for (const item of reply.items) {
      if (item.length === 0 || item.includes(MEDIA_SEPARATOR)) return 'invalid';
      bytes += Buffer.byteLength(item) + MEDIA_SEPARATOR.length;
    }
    return bytes > this.deps.settings.limits.maxLineBytes - ENVELOPE_BYTES ? 'too_long' : null;
  }

  /**
   * Writes one reply now, or hands it to the outbox (`queued`, resolved once it is stored). Never
   * throws or rejects: the outcome is returned and published as `reply:sent` (whether it reached
   * a socket or not). Counting is the caller's: ReplyPath publishes every result once as
   * `reply:result`.
   */
  deliver(out: OutgoingReply, mode: 'any' | 'here' = 'any'): SendResult | Promise<SendResult> {
    // A proactive send (no message) waits for its turn; replies go now, spending the device's budget.
    // Paced where a device of this node would write it (deviceOf): a send for a device on another
    // node is paced by its holder (deliverHere), not twice.
    if (out.message === null && this.governor !== null) return this.governor.enqueue(out, () => this.deliverNow(out, mode));
    return this.deliverNow(out, mode);
  }

  private deliverNow(out: OutgoingReply, mode: 'any' | 'here'): SendResult | Promise<SendResult> {
    const started = this.deps.events.active('reply:sent') ? eventTime() : 0;
    // A room with a backlog: behind it, even when a device is live (the outbox delivers in order).
    const outbox = this.deps.outbox;
    if (outbox?.holds(out.target)) return outbox.enqueue(out).then((result) => this.published(out, null, result, started));
    const route = this.route(out);
    if (typeof route !== 'string') {
      // Cluster mode: this node has only another device of the bot; the message's own device,
      // held by another node, takes it there (a single node never gets here: no remoteDevice).
      if (this.deps.remoteDevice && mode === 'any' && route.deviceId !== out.target.deviceId && out.target.deviceId) {
        const hop = this.deps.remoteDevice(out);
        if (hop !== null) return hop.then((hopped) => hopped ?? this.deliverLocal(out, mode, started));
      }
      const written = this.write(route, out);
      if (written !== 'closed') return this.published(out, route.deviceId, written, started);
    }
    return this.undelivered(out, route, mode, started);
  }

  /** After a hop to the message's device found it gone: this node's devices, as without one. */
  private deliverLocal(out: OutgoingReply, mode: 'any' | 'here', started: number): SendResult | Promise<SendResult> {
    const route = this.route(out);
    if (typeof route !== 'string') {
      const written = this.write(route, out);
      if (written !== 'closed') return this.published(out, route.deviceId, written, started);
    }
    return this.undelivered(out, route, mode, started);
  }

  private undelivered(out: OutgoingReply, route: ClientSession | 'no_client' | 'device_not_approved', mode: 'any' | 'here', started: number): SendResult | Promise<SendResult> {
    // A session that is closing (replaced by its own reconnect, its socket just ended) took nothing: no client.
    const reason = typeof route === 'string' ? route : 'no_client';
    // Cluster mode: a device of the bot held by another node takes it there. Its holder writes
    // it, publishes `reply:sent` (so the chat log records it once, where it was written) and
    // answers with its result; only when no node holds one does this node decide.
    const remote = this.deps.remote;
    if (mode === 'any' && remote) return remote(out).then((hopped) => hopped ?? this.decided(out, reason, mode, started));
    return this.decided(out, reason, mode, started);
  }

  private decided(out: OutgoingReply, reason: 'no_client' | 'device_not_approved', mode: 'any' | 'here', started: number): SendResult | Promise<SendResult> {
    const result = this.undeliverable(out, reason, mode);
    // A hop's holder without a device after all: the origin decides and publishes, not this node.
    if (mode === 'here' && reason === 'no_client') return result;
    return result instanceof Promise ? result.then((r) => this.published(out, null, r, started)) : this.published(out, null, result, started);
  }

  /**
   * Cluster mode: a reply another node routed here. This node's devices (or its outbox backlog of
   * the room) only; never sent on to a third node.
   */
  deliverHere(out: OutgoingReply, paced = true): SendResult | Promise<SendResult> {
    // A hopped reply to a message is not paced (replies never wait for the governor), as on its origin.
    return paced ? this.deliver(out, 'here') : this.deliverNow(out, 'here');
  }

  /**
   * The outbox's write of a queued reply: the normal path (route, encode, `reply:sent` written,
   * so the chat log records it), after a wait while the socket's output is backed up, so a
   * backlog never floods a slow phone. false when no live approved device of the bot is left
   * (or its socket stayed backed up: the sweep retries).
   */
  async writeQueued(out: OutgoingReply): Promise<boolean> {
    const started = this.deps.events.active('reply:sent') ? eventTime() : 0;
    let route = this.route(out);
    if (typeof route === 'string') return this.writeQueuedElsewhere(out);
    // Cluster mode: the reply's own device on another node takes it there (as in deliverNow).
    if (this.deps.remoteDevice && route.deviceId !== out.target.deviceId && out.target.deviceId) {
      const hop = this.deps.remoteDevice(out);
      if (hop !== null) {
        const result = await hop;
        if (result !== null) return !(result.status === 'rejected' && result.reason === 'cluster_timeout');
        route = this.route(out);
        if (typeof route === 'string') return this.writeQueuedElsewhere(out);
      }
    }
    // Wait for the socket before writing, never past the limit that would close it
    // (limits.maxPendingOutputBytes): a slow phone gets its backlog late, not a disconnect.
    const threshold = Math.min(BACKLOG_PENDING_BYTES, this.deps.settings.limits.maxPendingOutputBytes / 2);
    if (route.conn.pendingOutputBytes > threshold) {
      await route.conn.flush(BACKLOG_FLUSH_TIMEOUT_MS);
      if (route.conn.pendingOutputBytes > threshold) return false;
    }
    const result = this.write(route, out);
    if (result === 'closed') return false;
    // Written, or refused for good by this phone's protocol (a retry would be refused again).
    this.published(out, route.deviceId, result, started);
    return true;
  }

  /**
   * Cluster mode: a queued reply whose bot has a device on another node goes through that node
   * (the outbox rows stay with the node that queued them). A hop that timed out is retried by a
   * later delivery rather than dropped.
   */
  private async writeQueuedElsewhere(out: OutgoingReply): Promise<boolean> {
    if (!this.deps.remote) return false;
    const result = await this.deps.remote(out);
    // `reply:sent` was published by the holder, where it was written.
    return !(result === null || (result.status === 'rejected' && result.reason === 'cluster_timeout'));
  }

  /**
   * Writes through the session, which encodes the reply in its phone's protocol. 'closed': the
   * session is closing and took nothing. A reply this phone cannot take whole is `rejected`.
   */
  private write(route: ClientSession, out: OutgoingReply): SendResult | 'closed' {
    const event = out.scheduled === true ? 'scheduleMessage' : 'messageResponse';
    const written = route.sendReply(this.message(out), event);
    if (written === 'closed') {
      this.governor?.failed(out.target.botName, route.deviceId);
      return 'closed';
    }
    if (written === 'written') {
      this.deps.counters.inc('packets_out', event);
      this.governor?.sent(out.target.botName, route.deviceId, roomKeyOf(out.target));
      return { status: 'written', traceId: out.traceId, deviceId: route.deviceId };
    }
    this.deps.log.warn(
      { botName: out.target.botName, room: out.target.room, traceId: out.traceId, protocol: route.protocol, reason: written, code: 'BRIDGE_ERR_REPLY_TOO_LARGE' },
      written === 'too_long' ? "reply not sent: over the line limit in this phone's protocol" : "reply not sent: this phone's protocol cannot carry it",
    );
    return { status: 'rejected', traceId: out.traceId, reason: written };
  }

  /**
   * A proactive send still waiting at shutdown: kept in the outbox for the next run (`queued`)
   * when it can be, else delivered now rather than lost.
   */
  private park(out: OutgoingReply): SendResult | Promise<SendResult> {
    const outbox = this.deps.outbox;
    if (outbox?.accepts(out.target.botName)) return outbox.enqueue(out).then((result) => this.published(out, null, result, 0));
    return this.deliverNow(out, 'any');
  }

  /** Whether a live approved device of the bot could take a reply now. */
  canDeliver(botName: string): boolean {
    for (const session of this.deps.registry.ofBot(botName)) if (session.isReady && session.approval === 'approved') return true;
    return false;
  }

  private published(out: OutgoingReply, deviceId: string | null, result: SendResult, started: number): SendResult {
    const events = this.deps.events;
    if (!events.active('reply:sent')) return result;
    const ok = result.status === 'written';
    const { reply, target } = out;
    const sentAt = Date.now();
    const at = eventTime();
    // Built whole (bridge and at first, as publish would deliver it): one object, no copy.
    events.publishBuilt('reply:sent', {
      bridge: events.id,
      at,
      traceId: out.traceId,
      botName: target.botName,
      room: target.room,
      deviceId,
      index: out.index,
      status: result.status,
      reason: result.status === 'rejected' ? result.reason : null,
      ok,
      error: ok ? null : legacyError(result),
      kind: reply.kind,
      text: reply.kind === 'text' ? reply.text : `${reply.form === 'url' ? 'MEDIA_URL' : 'IMAGE_BASE64'}:(${reply.items.length} items)`,
      // Timed only while someone listened from the start (two clock reads per reply otherwise).
      sendMs: started ? at - started : 0,
      sent: ok ? { ...out, ok, sentAt } : { ...out, ok, error: legacyError(result), sentAt },
    });
    return result;
  }

  /**
   * The one place where "no live device can take this reply" is decided. `no_client` (the bot's
   * devices are all offline: disconnected, replaced by their own reconnect, or this process just
   * restarted) goes to the outbox when it is on and the bot has an approved device: `queued`,
   * delivered when a device is back.
   * `device_not_approved` stays a rejection: the only live devices are unapproved, and an
   * unapproved device must never get the reply, now or later.
   */
  private undeliverable(out: OutgoingReply, reason: 'no_client' | 'device_not_approved', mode: 'any' | 'here'): SendResult | Promise<SendResult> {
    // A hop's holder has no device after all (it just left): the origin node decides, once.
    if (mode === 'here' && reason === 'no_client') return { status: 'rejected', traceId: out.traceId, reason };
    if (reason === 'no_client' && this.deps.outbox?.accepts(out.target.botName)) return this.deps.outbox.enqueue(out);
    const code = reason === 'no_client' ? 'BRIDGE_ERR_REPLY_NO_CLIENT' : 'BRIDGE_ERR_REPLY_DEVICE_NOT_APPROVED';
    this.deps.log.warn(
      { botName: out.target.botName, room: out.target.room, traceId: out.traceId, code },
      reason === 'no_client' ? 'reply not sent: no live client' : 'reply not sent: no approved live client',
    );
    return { status: 'rejected', traceId: out.traceId, reason };
  }

  /** The protocol-neutral packet; the session's codec writes it (outbound never picks a protocol). */
  message(out: OutgoingReply): MessageResponseMessage {
    const { reply, target } = out;
    // Literals, not a spread of a shared base: one reply is one object per hop on this path.
    if (reply.kind === 'text') return { room: target.room, channelId: target.channelId, botName: target.botName, content: { kind: 'text', text: reply.text } };
    const { minMediaWaitMs, maxMediaWaitMs } = this.deps.settings.replies;
    const wait = reply.waitMs === undefined ? 0 : Math.min(maxMediaWaitMs, Math.max(minMediaWaitMs, Math.round(reply.waitMs)));
    const content = { kind: 'media', form: reply.form, items: reply.items, mediaType: reply.mediaType ?? 'image' } as const;
    return wait > 0
      ? { room: target.room, channelId: target.channelId, botName: target.botName, content, mediaWaitTime: wait }
      : { room: target.room, channelId: target.channelId, botName: target.botName, content };
  }

  /**
   * The message's device when it is live and approved, else another live approved device of the
   * bot (the phone posts by room name). A live but unapproved device never gets a reply.
   */
  private route(out: OutgoingReply): ClientSession | 'no_client' | 'device_not_approved' {
    const { botName, deviceId } = out.target;
    let unapproved = false;
    if (deviceId) {
      const preferred = this.deps.registry.get(botName, deviceId);
      if (preferred?.isReady) {
        if (preferred.approval === 'approved') return preferred;
        unapproved = true;
      }
    }
    for (const session of this.deps.registry.ofBot(botName)) {
      if (!session.isReady) continue;
      if (session.approval === 'approved') return session;
      unapproved = true;
    }
    return unapproved ? 'device_not_approved' : 'no_client';
  }
}

/** SentReply.error as onReplySent subscribers knew it (`no-client`). */
function legacyError(result: SendResult): string {
  return result.status === 'rejected' ? result.reason.replaceAll('_', '-') : result.status;
}
