import type { BridgeSettings, OutgoingReply, Reply, SentReply } from '@botbridge/sdk';
import { BridgeError } from '../errors.js';
import { eventTime, type EventBus } from '../events/bridge-events.js';
import type { CoreLogger } from '../logger.js';
import type { Counters } from '../metrics/counters.js';
import type { ProtocolCodec } from '../protocol/codec.js';
import type { ClientSession } from '../session/client-session.js';
import type { SessionRegistry } from '../session/session-registry.js';

const MEDIA_PREFIX = { url: 'MEDIA_URL:', base64: 'IMAGE_BASE64:' } as const;
const MEDIA_SEPARATOR = '|||';
/** JSON envelope of a messageResponse around its text, generously counted. */
const ENVELOPE_BYTES = 512;

/**
 * Turns replies into `messageResponse` packets (PROTOCOL.md §6) and writes them to a live client
 * of the bot: the device the message came from, or, if it went away, another live device of the
 * same bot (the phone posts by room name, so any device logged into the bot's account works).
 * Nothing is truncated: a reply over the limits is refused with a coded error the plugin sees.
 */
export class Outbound {
  constructor(
    private readonly deps: {
      readonly registry: SessionRegistry;
      readonly codec: ProtocolCodec;
      readonly counters: Counters;
      readonly log: CoreLogger;
      readonly settings: BridgeSettings;
      readonly events: EventBus;
    },
  ) {}

  /** Throws BRIDGE_ERR_REPLY_TOO_LARGE for a reply the phone could not take whole. */
  validate(reply: Reply): void {
    if (reply.kind === 'text') {
      const limit = this.deps.settings.replies.maxTextLength;
      if (reply.text.length > limit) throw new BridgeError('BRIDGE_ERR_REPLY_TOO_LARGE', { length: reply.text.length, limit });
      return;
    }
    const limit = this.deps.settings.limits.maxLineBytes - ENVELOPE_BYTES;
    let bytes = MEDIA_PREFIX[reply.form].length;
    for (const item of reply.items) {
      if (item.length === 0 || item.includes(MEDIA_SEPARATOR)) {
        throw new BridgeError('BRIDGE_ERR_REPLY_TOO_LARGE', { length: item.length, limit: 'a non-empty item without |||' });
      }
      bytes += Buffer.byteLength(item) + MEDIA_SEPARATOR.length;
    }
    if (reply.items.length === 0 || bytes > limit) throw new BridgeError('BRIDGE_ERR_REPLY_TOO_LARGE', { length: bytes, limit });
  }

  /** Writes one reply now. Never throws: the outcome is returned and published as `reply:sent`. */
  deliver(out: OutgoingReply): SentReply {
    const started = this.deps.events.active('reply:sent') ? eventTime() : 0;
    const session = this.route(out);
    let sent: SentReply;
    if (!session) {
      this.deps.log.warn(
        { botName: out.target.botName, room: out.target.room, traceId: out.traceId, code: 'BRIDGE_ERR_REPLY_NO_CLIENT' },
        'reply not sent: no live client',
      );
      sent = { ...out, ok: false, error: 'no-client', sentAt: Date.now() };
    } else {
      session.send(this.encode(out));
      this.deps.counters.inc('packets_out', 'messageResponse');
      sent = { ...out, ok: true, sentAt: Date.now() };
    }
    const { reply, target } = out;
    this.deps.events.publish('reply:sent', {
      traceId: out.traceId,
      botName: target.botName,
      room: target.room,
      deviceId: session?.deviceId ?? null,
      index: out.index,
      ok: sent.ok,
      error: sent.error ?? null,
      kind: reply.kind,
      text: reply.kind === 'text' ? reply.text : `${reply.form === 'url' ? 'MEDIA_URL' : 'IMAGE_BASE64'}:(${reply.items.length} items)`,
      // Timed only while someone listens (two clock reads per reply otherwise).
      sendMs: started ? eventTime() - started : 0,
      sent,
    });
    return sent;
  }

  encode(out: OutgoingReply): string {
    const { reply, target } = out;
    const base = { room: target.room, channelId: target.channelId, botName: target.botName };
    if (reply.kind === 'text') return this.deps.codec.encodeMessageResponse({ ...base, text: reply.text });
    const { minMediaWaitMs, maxMediaWaitMs } = this.deps.settings.replies;
    const wait = reply.waitMs === undefined ? 0 : Math.min(maxMediaWaitMs, Math.max(minMediaWaitMs, Math.round(reply.waitMs)));
    const text = MEDIA_PREFIX[reply.form] + reply.items.join(MEDIA_SEPARATOR);
    return this.deps.codec.encodeMessageResponse(wait > 0 ? { ...base, text, mediaWaitTime: wait } : { ...base, text });
  }

  private route(out: OutgoingReply): ClientSession | undefined {
    const { botName, deviceId } = out.target;
    if (deviceId) {
      const preferred = this.deps.registry.get(botName, deviceId);
      if (preferred?.isReady) return preferred;
    }
    for (const session of this.deps.registry.ofBot(botName)) {
      if (session.isReady && session.approval === 'approved') return session;
    }
    return undefined;
  }
}
