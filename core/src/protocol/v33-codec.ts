import {
  mediaWait,
  type MessageResponseMessage,
  type PingMessage,
  type ProtocolCodec,
  type ReplyContent,
} from './codec.js';
import { decodeHandshake, isRecord, readAnalyze, readPingAnswer, type ClientPacket, type HandshakeResult } from './packets.js';

/**
 * Protocol v3.3 (bridge scripts v3.3.0-a2, v3.3.2+, v3.3.3; PROTOCOL.md §8): "JSON + raw" lines.
 * The JSON part is what the connection parsed (everything up to the line's last `}`); `raw` is
 * the payload after it. `message_positions` is never trusted on the way in: the Rhino client sends
 * `[0,0]` with a payload, and its offsets are UTF-16 units where the old server counted bytes.
 */

const TIMEZONE = 'Asia/Seoul';
/** KST has no daylight saving: a fixed offset converts the client's UTC stamp to its local time. */
const KST_OFFSET_MS = 9 * 60 * 60 * 1000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NO_POSITIONS = [0, 0] as const;

export const v33Codec: ProtocolCodec = {
  name: 'v3.3',

  decodeHandshake(value, raw = '') {
    if (!isRecord(value) || value.event !== 'handshake') return { ok: false, reason: 'expected {"event":"handshake","data":{...}}' };
    if (raw !== '') return { ok: false, reason: 'a handshake carries no payload' };
    return decodeHandshake(value.data) satisfies HandshakeResult;
  },

  decodePacket(value, raw = '') {
    if (!isRecord(value)) return { kind: 'invalid', event: '', reason: 'packet is not an object' };
    const event = value.event;
    if (typeof event !== 'string') return { kind: 'invalid', event: '', reason: 'event is not a string' };
    if (event !== 'message' && event !== 'pong' && event !== 'ping') return { kind: 'unknown', event };
    const data = value.data;
    if (!isRecord(data)) return { kind: 'invalid', event, reason: 'data is not an object' };
    if (event === 'message') return decodeMessage(data, raw);
    // bridge.js and v3.3.3 answer a ping with `pong`, v3.3.2+ and v3.3.0-a2 with `ping`: same data.
    if (raw !== '') return { kind: 'invalid', event, reason: 'a ping answer carries no payload' };
    const ping = readPingAnswer(data);
    return typeof ping === 'string' ? { kind: 'invalid', event, reason: ping } : { kind: 'ping', data: ping };
  },

  encodeHandshakeComplete(m) {
    const data = {
      success: m.success,
      approved: m.approved,
      message: m.message,
      server_version: m.serverVersion,
      timestamp: new Date().toISOString(),
      timezone: TIMEZONE,
      message_positions: NO_POSITIONS,
    };
    return `${JSON.stringify({ event: 'handshakeComplete', data })}\n`;
  },

  encodeMessageResponse(m) {
    return encodeReply('messageResponse', m);
  },

  encodeScheduleMessage(m) {
    return encodeReply('scheduleMessage', m);
  },

  encodePing(m: PingMessage) {
    const data = {
      bot_name: m.botName,
      device_id: m.deviceId,
      server_timestamp: m.serverTimestamp,
      is_manual: m.isManual,
      server_info: { total_clients: m.totalClients, timestamp: m.serverTimestamp },
      timestamp: new Date(m.serverTimestamp).toISOString(),
      timezone: TIMEZONE,
      message_positions: NO_POSITIONS,
    };
    return `${JSON.stringify({ event: 'ping', data })}\n`;
  },
};

/**
 * Why a v3.3 phone cannot take this reply whole, or null. The payload travels raw after the JSON:
 * a `}` would move the phone's split point, and a line break would end the line early. (Leading
 * or trailing blanks would be trimmed away by the phone's `trim()`.)
 */
export function v33Unsendable(content: ReplyContent): 'invalid' | null {
  if (content.kind === 'text') return null;
  for (const item of content.items) {
    if (/[}\r\n]/.test(item) || item.trim() !== item) return 'invalid';
  }
  return null;
}

function encodeReply(event: 'messageResponse' | 'scheduleMessage', m: MessageResponseMessage): string {
  const { content } = m;
  const wait = mediaWait(m.mediaWaitTime);
  let payload: string;
  let positions: number[];
  const head = { room: m.room, channel_id: m.channelId, bot_name: m.botName };
  let data: Record<string, unknown>;
  if (content.kind === 'text') {
    payload = Buffer.from(content.text, 'utf8').toString('base64');
    positions = [0, payload.length];
    data = { ...head, message_type: 'text', content_encoding: 'base64', message_positions: positions };
  } else {
    // The phone cuts the payload with String.substring: positions are UTF-16 offsets.
    positions = [0];
    let end = 0;
    for (const item of content.items) {
      end += item.length;
      positions.push(end);
    }
    payload = content.items.join('');
    data = { ...head, message_type: content.mediaType, message_positions: positions };
  }
  data.timestamp = new Date().toISOString();
  data.timezone = TIMEZONE;
  if (wait > 0) data.media_wait_time = wait;
  return `${JSON.stringify({ event, data })}${payload}\n`;
}

function decodeMessage(d: Record<string, unknown>, raw: string): ClientPacket {
  const event = 'message';
  const type = d.message_type ?? 'text';
  if (type !== 'text') return { kind: 'invalid', event, reason: `message_type ${JSON.stringify(type)} is not supported (only "text")` };
  const encoding = d.content_encoding ?? 'base64';
  if (encoding !== 'base64') return { kind: 'invalid', event, reason: 'content_encoding must be "base64"' };
  const text = decodeBase64Text(raw);
  if (text === undefined) return { kind: 'invalid', event, reason: 'payload is not base64 of UTF-8 text' };
  const timestamp = typeof d.timestamp === 'string' ? localTime(d.timestamp, d.timezone) : d.timestamp;
  const analyze = readAnalyze({
    room: d.room,
    text,
    sender: d.sender,
    isGroupChat: d.is_group_chat,
    isMention: d.is_mention,
    channelId: d.channel_id,
    logId: d.log_id,
    userHash: d.user_hash,
    timestamp,
    botName: d.bot_name,
    clientType: d.client_type,
  });
  if (typeof analyze === 'string') return { kind: 'invalid', event, reason: analyze.replace(/^(\w+)/, snake) };
  // v3.3 has no logId-less legacy twin: its response() entry point is dead.
  return { kind: 'analyze', data: { ...analyze, legacy: false, auth: d.auth } };
}

/**
 * The payload is bounded by the line limit before it gets here (the splitter never delivers
 * more), so decoding allocates at most three quarters of that. Strict: the standard alphabet with
 * padding (Android's Base64.NO_WRAP) and well-formed UTF-8, else undefined.
 */
export function decodeBase64Text(raw: string): string | undefined {
  if (raw.length % 4 !== 0 || !BASE64.test(raw)) return undefined;
  try {
    return utf8.decode(Buffer.from(raw, 'base64'));
  } catch {
    return undefined;
  }
}

/** The phone's local time as v3.2 sent it (`YYYY-MM-DD HH:mm:ss`), from v3.3's UTC stamp. */
function localTime(iso: string, timezone: unknown): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || (timezone !== undefined && timezone !== TIMEZONE)) return iso;
  return new Date(ms + KST_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

const SNAKE: Readonly<Record<string, string>> = {
  isGroupChat: 'is_group_chat',
  isMention: 'is_mention',
  channelId: 'channel_id',
  logId: 'log_id',
  userHash: 'user_hash',
  botName: 'bot_name',
  clientType: 'client_type',
};

/** Reasons name the field as the v3.3 script spells it. */
function snake(field: string): string {
  return SNAKE[field] ?? field;
}
