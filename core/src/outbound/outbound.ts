import type { BridgeSettings, OutgoingReply, Reply, SendResult, SentReply } from '@botbridge/sdk';
import { eventTime, type EventBus } from '../events/bridge-events.js';
import type { CoreLogger } from '../logger.js';
import type { Counters } from '../metrics/counters.js';
import { MEDIA_PREFIX, MEDIA_SEPARATOR, type MessageResponseMessage } from '../protocol/codec.js';
import type { ClientSession } from '../session/client-session.js';
import type { SessionRegistry } from '../session/session-registry.js';

/** JSON envelope of a messageResponse around its text, generously counted. */
const ENVELOPE_BYTES = 512;

/**
 * Turns replies into `messageResponse` packets (docs/protocol.md) and writes them to a live client
 * of the bot: the device the message came from, or, if it went away, another live device of the
 * same bot (the phone posts by room name, so any device logged into the bot's account works).
 * The session writes the packet in its phone's protocol (v3.2 or v3.3). Nothing is truncated: a
 * reply over the limits is refused (`rejected`, `too_long`) and the plugin sees it.
 */
export class Outbound {
  constructor(
    private readonly deps: {
      readonly registry: SessionRegistry;
      readonly counters: Counters;
      readonly log: CoreLogger;
      readonly settings: BridgeSettings;
      readonly events: EventBus;
    },
  ) {}

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
   * Writes one reply now. Never throws: the outcome is returned and published as `reply:sent`
   * (whether it reached a socket or not). Counting is the caller's: ReplyPath publishes every
   * result once as `reply:result`.
   */
  deliver(out: OutgoingReply): SendResult {
    const started = this.deps.events.active('reply:sent') ? eventTime() : 0;
    const route = this.route(out);
    let result: SendResult;
    if (typeof route === 'string') {
      result = this.undeliverable(out, route);
    } else {
      const written = route.sendReply(this.message(out));
      if (written === 'written' || written === 'closed') {
        // 'closed': the socket went away under us; like any write into a dead socket, it is lost.
        this.deps.counters.inc('packets_out', 'messageResponse');
        result = { status: 'written', traceId: out.traceId, deviceId: route.deviceId };
      } else {
        this.deps.log.warn(
          { botName: out.target.botName, room: out.target.room, traceId: out.traceId, protocol: route.protocol, reason: written, code: 'BRIDGE_ERR_REPLY_TOO_LARGE' },
          written === 'too_long' ? "reply not sent: over the line limit in this phone's protocol" : "reply not sent: this phone's protocol cannot carry it",
        );
        result = { status: 'rejected', traceId: out.traceId, reason: written };
      }
    }
    const ok = result.status === 'written';
    if (this.deps.events.active('reply:sent')) {
      const { reply, target } = out;
      const sentAt = Date.now();
      this.deps.events.publish('reply:sent', {
        traceId: out.traceId,
        botName: target.botName,
        room: target.room,
        deviceId: typeof route === 'string' ? null : route.deviceId,
        index: out.index,
        status: result.status,
        reason: result.status === 'rejected' ? result.reason : null,
        ok,
        error: ok ? null : legacyError(result),
        kind: reply.kind,
        text: reply.kind === 'text' ? reply.text : `${reply.form === 'url' ? 'MEDIA_URL' : 'IMAGE_BASE64'}:(${reply.items.length} items)`,
        // Timed only while someone listened from the start (two clock reads per reply otherwise).
        sendMs: started ? eventTime() - started : 0,
        sent: ok ? { ...out, ok, sentAt } : { ...out, ok, error: legacyError(result), sentAt },
      });
    }
    return result;
  }

  /**
   * The one place where "no live device can take this reply" is decided. The offline outbox
   * (issue 11) slots in here: keep the reply per (bot, room) and return `queued` instead.
   */
  private undeliverable(out: OutgoingReply, reason: 'no_client' | 'device_not_approved'): SendResult {
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
    const base = { room: target.room, channelId: target.channelId, botName: target.botName };
    if (reply.kind === 'text') return { ...base, content: { kind: 'text', text: reply.text } };
    const { minMediaWaitMs, maxMediaWaitMs } = this.deps.settings.replies;
    const wait = reply.waitMs === undefined ? 0 : Math.min(maxMediaWaitMs, Math.max(minMediaWaitMs, Math.round(reply.waitMs)));
    const content = { kind: 'media', form: reply.form, items: reply.items, mediaType: reply.mediaType ?? 'image' } as const;
    return wait > 0 ? { ...base, content, mediaWaitTime: wait } : { ...base, content };
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
