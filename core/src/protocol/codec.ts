import type { ApprovalStatus } from '@botbridge/sdk';
import {
  decodeHandshake,
  decodePacket,
  type ClientPacket,
  type HandshakeResult,
} from './packets.js';

export interface HandshakeCompleteMessage {
  readonly success: boolean;
  readonly approved: boolean;
  readonly message: string;
  readonly serverVersion: string;
}

/** What the phone understands as media (`message_type` in v3.3; v3.2 treats every item alike). */
export type MediaType = 'image' | 'audio' | 'video' | 'document';

/** A reply's content, protocol-neutral: each codec writes it in its own shape. */
export type ReplyContent =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind: 'media';
      /** `url`: http(s) URLs or phone paths; `base64`: images without a data: prefix. */
      readonly form: 'url' | 'base64';
      readonly items: readonly string[];
      readonly mediaType: MediaType;
    };

export interface MessageResponseMessage {
  readonly room: string;
  readonly channelId: string | null;
  readonly botName: string;
  readonly content: ReplyContent;
  /** Integer ms the phone waits after handing media to KakaoTalk; sent only when > 0. */
  readonly mediaWaitTime?: number;
}

export interface PingMessage {
  readonly botName: string;
  readonly deviceId: string;
  readonly serverTimestamp: number;
  readonly isManual: boolean;
  readonly totalClients: number;
}

export type ProtocolName = 'v3.2' | 'v3.3';

/**
 * The seam between the pipeline and one protocol version, chosen per connection from the shape
 * of its first line (codec-select.ts). Decoders take the line's JSON part, parsed, and `raw`, what
 * followed its last `}` (v3.3's payload; always '' for a v3.2 script), and return protocol-neutral
 * packets; encoders return one complete line ending in `\n`. Everything after the codec is the
 * same pipeline for every version.
 */
export interface ProtocolCodec {
  readonly name: ProtocolName;
  decodeHandshake(value: unknown, raw?: string): HandshakeResult;
  decodePacket(value: unknown, raw?: string): ClientPacket;
  encodeHandshakeComplete(message: HandshakeCompleteMessage): string;
  encodeMessageResponse(message: MessageResponseMessage): string;
  /** A scheduled send (the scheduler's); a v3.2 phone gets it as a messageResponse. */
  encodeScheduleMessage(message: MessageResponseMessage): string;
  encodePing(message: PingMessage): string;
}

export const MEDIA_PREFIX = { url: 'MEDIA_URL:', base64: 'IMAGE_BASE64:' } as const;
export const MEDIA_SEPARATOR = '|||';

/** The v3.2 `text` of a reply: media as `MEDIA_URL:a|||b` or `IMAGE_BASE64:a|||b` (§6). */
export function v32Text(content: ReplyContent): string {
  return content.kind === 'text' ? content.text : MEDIA_PREFIX[content.form] + content.items.join(MEDIA_SEPARATOR);
}

/** media_wait_time as sent: a positive integer, else absent. */
export function mediaWait(ms: number | undefined): number {
  const wait = Math.round(ms ?? 0);
  return Number.isFinite(wait) && wait > 0 ? wait : 0;
}

const UNEXPECTED_RAW = 'unexpected data after the JSON object (a v3.3 payload on a v3.2 connection)';

/** handshakeComplete.message texts the v3.2.1+ clients log (§2.3), verbatim. */
export const handshakeMessages = {
  approved: '승인된 디바이스입니다',
  pending: '승인 대기 중인 디바이스입니다',
  registered: '디바이스가 승인 대기 상태로 등록되었습니다',
  refused: (status: Exclude<ApprovalStatus, 'approved' | 'pending'> | (string & {})): string =>
    `접근이 차단된 디바이스입니다 (${status})`,
} as const;

/**
 * Protocol v3.2 (bridge scripts v3.2.0–v3.2.2). Key order and names match what the old server
 * wrote; JSON.stringify writes non-ASCII raw, like its `ensure_ascii=False`.
 */
export const v32Codec: ProtocolCodec = {
  name: 'v3.2',
  decodeHandshake(value, raw = '') {
    return raw === '' ? decodeHandshake(value) : { ok: false, reason: UNEXPECTED_RAW };
  },
  decodePacket(value, raw = '') {
    if (raw === '') return decodePacket(value);
    const event = typeof value === 'object' && value !== null && typeof (value as { event?: unknown }).event === 'string' ? (value as { event: string }).event : '';
    return { kind: 'invalid', event, reason: UNEXPECTED_RAW };
  },

  encodeHandshakeComplete(m) {
    return `${JSON.stringify({
      event: 'handshakeComplete',
      data: { success: m.success, approved: m.approved, message: m.message, server_version: m.serverVersion },
    })}\n`;
  },

  encodeMessageResponse(m) {
    const wait = mediaWait(m.mediaWaitTime);
    const text = v32Text(m.content);
    const data =
      wait > 0
        ? { room: m.room, channel_id: m.channelId, bot_name: m.botName, text, media_wait_time: wait }
        : { room: m.room, channel_id: m.channelId, bot_name: m.botName, text };
    return `${JSON.stringify({ event: 'messageResponse', data })}\n`;
  },

  encodeScheduleMessage(m) {
    // v3.2 scripts know no scheduleMessage event; what they can post is a messageResponse.
    return v32Codec.encodeMessageResponse(m);
  },

  encodePing(m) {
    return `${JSON.stringify({
      event: 'ping',
      data: {
        bot_name: m.botName,
        device_id: m.deviceId,
        server_timestamp: m.serverTimestamp,
        is_manual: m.isManual,
        server_info: { total_clients: m.totalClients, timestamp: m.serverTimestamp },
      },
    })}\n`;
  },
};
