import { z } from 'zod';
import type { PingMonitoring } from '@botbridge/sdk';

/**
 * Decoded client packets of protocol v3.2 (PROTOCOL.md §2–§4), in protocol-neutral names so a
 * later codec (v3.3) can produce the same shapes. The handshake arrives once per connection and
 * is validated with zod; `analyze` and `ping` arrive per message and use hand-written guards that
 * allocate nothing on failure but a reason string.
 */

export interface HandshakePacket {
  readonly clientType: string;
  readonly botName: string;
  readonly version: string;
  readonly deviceId: string;
  /** Self-reported by the phone. */
  readonly deviceIP: string | null;
  readonly deviceInfo: string | null;
}

export type HandshakeResult =
  | { readonly ok: true; readonly handshake: HandshakePacket }
  | { readonly ok: false; readonly reason: string };

export interface AnalyzePacket {
  readonly room: string;
  readonly text: string;
  readonly sender: string;
  readonly isGroupChat: boolean;
  readonly isMention: boolean;
  /** Decimal string (may exceed 2^53) or null. */
  readonly channelId: string | null;
  readonly logId: string | null;
  readonly userHash: string | null;
  /** The phone's local time as sent (`YYYY-MM-DD HH:mm:ss`). */
  readonly timestamp: string | null;
  readonly botName: string | null;
  readonly clientType: string | null;
  /** Legacy `response()` entry point only. */
  readonly packageName: string | null;
  readonly threadId: string | null;
  /** Sent by the legacy `response()` entry point: the packet has no `logId` key at all. */
  readonly legacy: boolean;
  /** The raw auth block, for verifyAuth (its signature covers the raw field values). */
  readonly auth: unknown;
}

export interface PingAnswerPacket {
  readonly botName: string;
  /** Echo of the server's ping timestamp (epoch ms). */
  readonly serverTimestamp: number;
  readonly monitoring: PingMonitoring | null;
  readonly auth: unknown;
}

/** The auth block of §4, missing signed fields as empty strings. */
export interface AuthBlock {
  readonly clientType: string;
  readonly botName: string;
  readonly deviceUUID: string;
  readonly deviceId: string;
  readonly macAddress: string;
  readonly ipAddress: string;
  readonly timestamp: number;
  readonly signature: string;
}

export type ClientPacket =
  | { readonly kind: 'analyze'; readonly data: AnalyzePacket }
  | { readonly kind: 'ping'; readonly data: PingAnswerPacket }
  | { readonly kind: 'unknown'; readonly event: string }
  | { readonly kind: 'invalid'; readonly event: string; readonly reason: string };

/** Informational fields: a wrong type is treated as absent rather than refusing the phone. */
const informational = z.string().nullish().catch(null);

const handshakeSchema = z.object({
  clientType: z.string().optional(),
  botName: z.string().min(1),
  version: z.string().min(1),
  deviceID: z.string().min(1),
  deviceIP: informational,
  deviceInfo: informational,
});

/** Validates the bare handshake object (§2.2). Some builds send only the three required fields. */
export function decodeHandshake(value: unknown): HandshakeResult {
  const parsed = handshakeSchema.safeParse(value);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
      .join('; ');
    return { ok: false, reason };
  }
  const h = parsed.data;
  return {
    ok: true,
    handshake: {
      clientType: h.clientType ? h.clientType : 'MessengerBotR',
      botName: h.botName,
      version: h.version,
      deviceId: h.deviceID,
      deviceIP: h.deviceIP ?? null,
      deviceInfo: h.deviceInfo ?? null,
    },
  };
}

/** Decodes one `{event, data}` packet sent after the handshake. */
export function decodePacket(value: unknown): ClientPacket {
  if (!isRecord(value)) return { kind: 'invalid', event: '', reason: 'packet is not an object' };
  const event = value.event;
  if (typeof event !== 'string') return { kind: 'invalid', event: '', reason: 'event is not a string' };
  if (event !== 'analyze' && event !== 'ping') return { kind: 'unknown', event };
  const data = value.data;
  if (!isRecord(data)) return { kind: 'invalid', event, reason: 'data is not an object' };
  if (event === 'analyze') {
    const analyze = readAnalyze(data);
    return typeof analyze === 'string' ? { kind: 'invalid', event, reason: analyze } : { kind: 'analyze', data: analyze };
  }
  const ping = readPingAnswer(data);
  return typeof ping === 'string' ? { kind: 'invalid', event, reason: ping } : { kind: 'ping', data: ping };
}

/**
 * Reads the auth block (§4). The signed fields the client may omit (deviceUUID, macAddress, ...)
 * count as empty strings, exactly as the client signs them; present ones must be strings.
 */
export function decodeAuthBlock(value: unknown): { ok: true; auth: AuthBlock } | { ok: false; reason: string } {
  if (!isRecord(value)) return { ok: false, reason: 'auth is not an object' };
  const { botName, deviceID, signature, timestamp } = value;
  if (typeof botName !== 'string') return { ok: false, reason: 'botName must be a string' };
  if (typeof deviceID !== 'string') return { ok: false, reason: 'deviceID must be a string' };
  if (typeof signature !== 'string') return { ok: false, reason: 'signature must be a string' };
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) {
    return { ok: false, reason: 'timestamp must be an integer (epoch ms)' };
  }
  const clientType = readOptionalString(value.clientType);
  const deviceUUID = readOptionalString(value.deviceUUID);
  const macAddress = readOptionalString(value.macAddress);
  const ipAddress = readOptionalString(value.ipAddress);
  if (clientType === undefined) return { ok: false, reason: 'clientType must be a string' };
  if (deviceUUID === undefined) return { ok: false, reason: 'deviceUUID must be a string' };
  if (macAddress === undefined) return { ok: false, reason: 'macAddress must be a string' };
  if (ipAddress === undefined) return { ok: false, reason: 'ipAddress must be a string' };
  return {
    ok: true,
    auth: {
      clientType: clientType ?? '',
      botName,
      deviceUUID: deviceUUID ?? '',
      deviceId: deviceID,
      macAddress: macAddress ?? '',
      ipAddress: ipAddress ?? '',
      timestamp,
      signature,
    },
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the packet or the reason it is malformed. */
export function readAnalyze(d: Record<string, unknown>): AnalyzePacket | string {
  const { room, text, sender } = d;
  if (typeof room !== 'string' || room.length === 0) return 'room must be a non-empty string';
  if (typeof text !== 'string') return 'text must be a string';
  if (typeof sender !== 'string') return 'sender must be a string';
  const isGroupChat = d.isGroupChat ?? false;
  if (typeof isGroupChat !== 'boolean') return 'isGroupChat must be a boolean';
  const isMention = d.isMention ?? false;
  if (typeof isMention !== 'boolean') return 'isMention must be a boolean';
  const channelId = readId(d.channelId);
  if (channelId === undefined) return idReason('channelId', d.channelId);
  const logId = readId(d.logId);
  if (logId === undefined) return idReason('logId', d.logId);
  const userHash = readOptionalString(d.userHash);
  if (userHash === undefined) return 'userHash must be a string';
  const timestamp = readOptionalString(d.timestamp);
  if (timestamp === undefined) return 'timestamp must be a string';
  const botName = readOptionalString(d.botName);
  if (botName === undefined) return 'botName must be a string';
  const clientType = readOptionalString(d.clientType);
  if (clientType === undefined) return 'clientType must be a string';
  const packageName = readOptionalString(d.packageName);
  if (packageName === undefined) return 'packageName must be a string';
  // Informational: the legacy entry point forwards whatever the app passes as response()'s 8th
  // argument (a boolean isMention on MessengerBot R 0.7.36a+), so no type is refused here.
  const threadId = typeof d.threadId === 'string' ? d.threadId : typeof d.threadId === 'number' ? String(d.threadId) : null;
  return {
    room, text, sender, isGroupChat, isMention, channelId, logId, userHash, timestamp,
    botName, clientType, packageName, threadId,
    legacy: d.logId === undefined,
    auth: d.auth,
  };
}

export function readPingAnswer(d: Record<string, unknown>): PingAnswerPacket | string {
  const botName = d.bot_name;
  if (typeof botName !== 'string') return 'bot_name must be a string';
  const serverTimestamp = d.server_timestamp;
  if (typeof serverTimestamp !== 'number' || !Number.isFinite(serverTimestamp)) {
    return 'server_timestamp must be a number';
  }
  const m = d.monitoring;
  if (m == null) return { botName, serverTimestamp, monitoring: null, auth: d.auth };
  if (!isRecord(m)) return 'monitoring must be an object';
  const totalMemory = readOptionalNumber(m.total_memory);
  const memoryUsage = readOptionalNumber(m.memory_usage);
  const memoryPercent = readOptionalNumber(m.memory_percent);
  const messageQueueSize = readOptionalNumber(m.message_queue_size);
  const activeRooms = readOptionalNumber(m.active_rooms);
  if (totalMemory === undefined) return 'monitoring.total_memory must be a number or null';
  if (memoryUsage === undefined) return 'monitoring.memory_usage must be a number or null';
  if (memoryPercent === undefined) return 'monitoring.memory_percent must be a number or null';
  if (messageQueueSize === undefined) return 'monitoring.message_queue_size must be a number or null';
  if (activeRooms === undefined) return 'monitoring.active_rooms must be a number or null';
  return {
    botName,
    serverTimestamp,
    monitoring: { totalMemory, memoryUsage, memoryPercent, messageQueueSize, activeRooms },
    auth: d.auth,
  };
}

const DECIMAL = /^-?\d+$/;

/**
 * KakaoTalk ids travel as decimal strings (§1) and stay strings. A build that sends a JSON number
 * is accepted via String() while the number is still exact; beyond 2^53 JSON.parse has already
 * lost digits, and a wrong id would break dedup and room approval, so that is rejected.
 * Returns undefined when malformed.
 */
function readId(value: unknown): string | null | undefined {
  if (value == null) return null;
  if (typeof value === 'string') return DECIMAL.test(value) ? value : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

function idReason(field: string, value: unknown): string {
  if (typeof value === 'number' && Number.isInteger(value)) {
    return `${field} is a number beyond 2^53 (digits already lost); it must be a decimal string`;
  }
  return `${field} must be a decimal string or null`;
}

/** null for absent/null, undefined for a wrong type. */
function readOptionalString(value: unknown): string | null | undefined {
  if (value == null) return null;
  return typeof value === 'string' ? value : undefined;
}

function readOptionalNumber(value: unknown): number | null | undefined {
  if (value == null) return null;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
