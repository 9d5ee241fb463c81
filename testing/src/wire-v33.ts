import type { MonitoringBlock, HandshakeFields } from './wire-packets.js';
import type { AnalyzeData, MessageResponse } from './wire-types.js';

/**
 * Builders and readers of the v3.3.x bridge scripts' wire format (docs/protocol.md, "JSON + raw"):
 * a line is `{event, data}` in the script's key order, directly followed by a raw payload, then
 * LF. The script runs under Rhino, where a Java string's `length` is a method, so it sends
 * `message_positions: [0,0]` even when a payload follows; `positions: 'exact'` sends `[0, n]`.
 */

export type PositionsMode = 'rhino' | 'exact';

const TIMEZONE = 'Asia/Seoul';
const BASE64_ITEM = /^[A-Za-z0-9+/=]+$/;

function positions(payload: string, mode: PositionsMode): [number, number] {
  return mode === 'exact' && payload.length > 0 ? [0, payload.length] : [0, 0];
}

/** One v3.3 line: the JSON, the raw payload, LF. */
export function encodeV33Line(packet: unknown, payload = ''): string {
  return `${JSON.stringify(packet)}${payload}\n`;
}

/** The wrapped handshake: the v3.2 fields plus timestamp, timezone and positions, unsigned. */
export function buildV33Handshake(fields: HandshakeFields, now: Date): Record<string, unknown> {
  return {
    event: 'handshake',
    data: {
      clientType: fields.clientType,
      botName: fields.botName,
      version: fields.version,
      deviceID: fields.deviceID,
      deviceIP: fields.deviceIP,
      deviceInfo: fields.deviceInfo,
      timestamp: now.toISOString(),
      timezone: TIMEZONE,
      message_positions: [0, 0],
    },
  };
}

/**
 * A `message` line for the chat line a v3.2 script would send as `data` (same defaults): snake
 * case, the text as base64 of its UTF-8 bytes after the JSON.
 */
export function buildV33MessageLine(
  data: AnalyzeData,
  auth: Readonly<Record<string, unknown>> | undefined,
  now: Date,
  mode: PositionsMode,
): string {
  const payload = Buffer.from(data.text, 'utf8').toString('base64');
  const body: Record<string, unknown> = {
    room: data.room,
    channel_id: data.channelId,
    message_type: 'text',
    content_encoding: 'base64',
    message_positions: positions(payload, mode),
    timestamp: now.toISOString(),
    timezone: TIMEZONE,
    sender: data.sender,
    is_group_chat: data.isGroupChat,
    log_id: data.logId ?? null,
    user_hash: data.userHash ?? null,
    is_mention: data.isMention,
    bot_name: data.botName,
    client_type: data.clientType ?? 'MessengerBotR',
  };
  if (auth !== undefined) body.auth = auth;
  return encodeV33Line({ event: 'message', data: body }, payload);
}

/** The answer to a server ping: `pong` (bridge.js, v3.3.3) or `ping` (v3.3.2+, v3.3.0-a2). */
export function buildV33PingAnswer(
  event: 'pong' | 'ping',
  botName: string,
  serverTimestamp: unknown,
  monitoring: MonitoringBlock,
  auth: Readonly<Record<string, unknown>>,
  now: Date,
): Record<string, unknown> {
  return {
    event,
    data: {
      bot_name: botName,
      server_timestamp: serverTimestamp,
      monitoring,
      auth,
      timestamp: now.toISOString(),
      timezone: TIMEZONE,
      message_positions: [0, 0],
    },
  };
}

/** Splits a received line as the script does: trim, JSON up to the last `}`, the rest is raw. */
export function splitV33Line(line: string): { readonly json: string; readonly payload: string } | undefined {
  const trimmed = line.trim();
  const end = trimmed.lastIndexOf('}');
  if (end < 0) return undefined;
  return { json: trimmed.slice(0, end + 1), payload: trimmed.slice(end + 1) };
}

/**
 * What the script does with a messageResponse/scheduleMessage, as a v3.2-shaped reply so tests
 * compare the same `text` for both protocols: the decoded text, or the media items cut by
 * `message_positions` as `IMAGE_BASE64:a|||b` / `MEDIA_URL:a|||b` (the script treats each item by
 * its form). Undefined when the script would drop it (`[0,0]` positions, unknown message_type).
 */
export function readV33Reply(data: Record<string, unknown>, payload: string): MessageResponse | undefined {
  const cuts = Array.isArray(data.message_positions) ? (data.message_positions as number[]) : [0, 0];
  if (cuts.length === 2 && cuts[1] === 0) return undefined;
  const type = data.message_type;
  let text: string;
  if (type === 'text') {
    text = data.content_encoding === 'base64' ? Buffer.from(payload, 'base64').toString('utf8') : payload;
  } else if (type === 'image' || type === 'audio' || type === 'video' || type === 'document') {
    const items = cuts.length > 2 ? cuts.slice(1).map((end, i) => payload.substring(cuts[i]!, end)) : [payload];
    text = (items.every((item) => BASE64_ITEM.test(item)) ? 'IMAGE_BASE64:' : 'MEDIA_URL:') + items.join('|||');
  } else {
    return undefined;
  }
  return { ...(data as unknown as MessageResponse), text, payload };
}
