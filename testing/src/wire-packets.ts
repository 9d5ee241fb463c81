import { randomBytes } from 'node:crypto';
import { buildAuthBlock, type AuthIdentity, type SigningKey } from './auth-signer.js';
import type { AnalyzeData, AnalyzeInput, AuthVariant } from './wire-types.js';

/**
 * Builders of the packets a v3.2.x bridge script writes, key order included: the server must
 * accept exactly these bytes. Pure functions, so a test can also assemble lines itself (for
 * example a handshake and an analyze in one TCP write).
 */

/** One wire line: compact JSON (no raw LF can occur inside) and `\n`, like the script. */
export function encodeLine(packet: unknown): string {
  return `${JSON.stringify(packet)}\n`;
}

export interface HandshakeFields {
  readonly clientType: string;
  readonly botName: string;
  readonly version: string;
  readonly deviceID: string;
  readonly deviceIP: string;
  readonly deviceInfo: string;
}

/** The bare handshake object (no event/data wrapper), PROTOCOL.md §2.2. */
export function buildHandshake(fields: HandshakeFields, form: 'full' | 'minimal'): Record<string, string> {
  if (form === 'minimal') return { botName: fields.botName, version: fields.version, deviceID: fields.deviceID };
  return {
    clientType: fields.clientType,
    botName: fields.botName,
    version: fields.version,
    deviceID: fields.deviceID,
    deviceIP: fields.deviceIP,
    deviceInfo: fields.deviceInfo,
  };
}

const STALE_BY_MS = 6 * 60_000;
const OTHER_DEVICE_ID = 'ffffeeeeddddcccc';

/** The auth block `analyze` should carry for a variant, or undefined for none. */
export function authFor(
  variant: AuthVariant,
  identity: AuthIdentity,
  key: SigningKey,
  now: number,
): Readonly<Record<string, unknown>> | undefined {
  switch (variant) {
    case 'missing':
      return undefined;
    case 'valid':
      return buildAuthBlock(identity, now, key);
    case 'stale':
      return buildAuthBlock(identity, now - STALE_BY_MS, key);
    case 'bad-signature': {
      // Signed for a different timestamp: well-formed 64 hex digits that cannot verify.
      const signed = buildAuthBlock(identity, now, key);
      return { ...signed, signature: buildAuthBlock(identity, now + 1, key).signature };
    }
    case 'other-identity': {
      const deviceID = identity.deviceID === OTHER_DEVICE_ID ? 'ddddccccbbbbaaaa' : OTHER_DEVICE_ID;
      return buildAuthBlock({ ...identity, deviceID }, now, key);
    }
    default:
      return variant;
  }
}

export interface AnalyzeDefaults {
  readonly botName: string;
  readonly clientType: string;
  readonly logId: string;
  readonly now: Date;
}

export const DEFAULT_ROOM = '테스트방';
export const DEFAULT_CHANNEL_ID = '18445682959392711';
export const DEFAULT_SENDER = '홍길동';
export const DEFAULT_USER_HASH = 'abcd1234';

/** `data` of an `analyze` packet without its auth block, in the script's key order. */
export function buildAnalyzeData(input: AnalyzeInput, defaults: AnalyzeDefaults): AnalyzeData {
  const userHash = input.userHash === undefined ? DEFAULT_USER_HASH : input.userHash;
  return {
    room: input.room ?? DEFAULT_ROOM,
    text: input.text ?? '',
    sender: input.sender ?? DEFAULT_SENDER,
    isGroupChat: input.isGroupChat ?? true,
    channelId: input.channelId === undefined ? DEFAULT_CHANNEL_ID : input.channelId,
    logId: input.logId === undefined ? defaults.logId : input.logId,
    ...(userHash === null ? {} : { userHash }),
    isMention: input.isMention ?? false,
    timestamp: input.timestamp ?? phoneTimestamp(defaults.now),
    botName: input.botName ?? defaults.botName,
    clientType: input.clientType ?? defaults.clientType,
  };
}

/**
 * The same chat line as the script's legacy `response()` entry point sends it: no logId, a
 * random userHash, plus packageName and threadId (PROTOCOL.md §3).
 */
export function buildLegacyTwin(data: AnalyzeData): AnalyzeData {
  // Key order, values and omissions as the scripts' legacy response() entry point writes them
  // (bridge v3.2.0-v3.2.2): no logId and no clientType; channelId comes from an ImageDB call that
  // is null in practice; isMention is always false; threadId is the app's 8th callback argument,
  // a boolean on MessengerBot R 0.7.36a and later; userHash is a fresh random id.
  return {
    room: data.room,
    text: data.text,
    sender: data.sender,
    isGroupChat: data.isGroupChat,
    channelId: null,
    timestamp: data.timestamp,
    botName: data.botName,
    packageName: 'com.kakao.talk',
    threadId: false,
    userHash: data.sender === '' ? null : randomBytes(10).toString('base64url').toLowerCase(),
    isMention: false,
  };
}

/** The phone's local time at second resolution, as the script formats it. */
export function phoneTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
  );
}

/** What the script reports in a ping answer's monitoring block (JVM heap numbers, MiB). */
export interface MonitoringBlock {
  readonly total_memory: number;
  readonly memory_usage: number;
  readonly memory_percent: number;
  readonly message_queue_size: number;
  readonly active_rooms: number;
}

/** The answer to a server ping (PROTOCOL.md §3): server_timestamp echoed as received. */
export function buildPingAnswer(
  botName: string,
  serverTimestamp: unknown,
  monitoring: MonitoringBlock,
  auth: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return {
    event: 'ping',
    data: { bot_name: botName, server_timestamp: serverTimestamp, monitoring, auth },
  };
}
