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

export interface MessageResponseMessage {
  readonly room: string;
  readonly channelId: string | null;
  readonly botName: string;
  readonly text: string;
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

/**
 * The seam between the pipeline and one protocol version. Decoders take a parsed JSON value and
 * return protocol-neutral packets; encoders return one complete line ending in `\n`. Bridge v3.3
 * (JSON + raw payload framing, PROTOCOL.md §8) becomes a second implementation.
 */
export interface ProtocolCodec {
  readonly name: string;
  decodeHandshake(value: unknown): HandshakeResult;
  decodePacket(value: unknown): ClientPacket;
  encodeHandshakeComplete(message: HandshakeCompleteMessage): string;
  encodeMessageResponse(message: MessageResponseMessage): string;
  encodePing(message: PingMessage): string;
}

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
  decodeHandshake,
  decodePacket,

  encodeHandshakeComplete(m) {
    return `${JSON.stringify({
      event: 'handshakeComplete',
      data: { success: m.success, approved: m.approved, message: m.message, server_version: m.serverVersion },
    })}\n`;
  },

  encodeMessageResponse(m) {
    const wait = Math.round(m.mediaWaitTime ?? 0);
    const data =
      Number.isFinite(wait) && wait > 0
        ? { room: m.room, channel_id: m.channelId, bot_name: m.botName, text: m.text, media_wait_time: wait }
        : { room: m.room, channel_id: m.channelId, bot_name: m.botName, text: m.text };
    return `${JSON.stringify({ event: 'messageResponse', data })}\n`;
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
