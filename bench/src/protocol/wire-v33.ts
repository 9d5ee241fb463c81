import { SCRIPT_SALT, SCRIPT_SECRET_KEY, signAuth, type BenchIdentity, type BenchWire } from './wire.js';

/**
 * The v3.3.x script's side of the protocol (docs/protocol.md, "JSON + raw") for the load
 * generator, as cheap as the v3.2 wire: per-connection prefixes, the auth block (and the ISO
 * stamp) rebuilt once a second, the text sent as base64 after the JSON with Rhino's `[0,0]`
 * positions, ping answers as `pong` (bridge.js, v3.3.3).
 */

const CLIENT_TYPE = 'MessengerBotR';
const CLIENT_VERSION = '3.3.3';
const DEVICE_UUID = 'unknown';
const MAC_ADDRESS = '02:00:00:00:00:00';
const IP_ADDRESS = '127.0.0.1';
const POSITIONS = '"message_positions":[0,0]';

export class ScriptWireV33 implements BenchWire {
  private second = -1;
  private authJson = '';
  private stamp = '';
  /** From the logId's closing quote to the JSON's end; rebuilt with the auth block. */
  private messageTail = '';
  private readonly messageHead: string;
  private readonly messageMiddle: string;
  private readonly pongHead: string;

  constructor(readonly identity: BenchIdentity) {
    const { room, channelId, botName } = identity;
    this.messageHead = `{"event":"message","data":{"room":${JSON.stringify(room)},"channel_id":"${channelId}","message_type":"text","content_encoding":"base64",${POSITIONS},"timestamp":`;
    this.messageMiddle = `,"timezone":"Asia/Seoul","sender":"벤치사용자","is_group_chat":true,"log_id":"`;
    this.pongHead = `{"event":"pong","data":{"bot_name":${JSON.stringify(botName)},"server_timestamp":`;
  }

  handshake(): string {
    const { botName, deviceId } = this.identity;
    const data = {
      clientType: CLIENT_TYPE,
      botName,
      version: CLIENT_VERSION,
      deviceID: deviceId,
      deviceIP: IP_ADDRESS,
      deviceInfo: 'botbridge bench generator',
      timestamp: new Date().toISOString(),
      timezone: 'Asia/Seoul',
      message_positions: [0, 0],
    };
    return `${JSON.stringify({ event: 'handshake', data })}\n`;
  }

  /** The payload is base64 of the text's UTF-8 bytes, after the JSON. */
  analyze(text: string, logId: number, nowMs: number): string {
    this.refresh(nowMs);
    return `${this.messageHead}${this.stamp}${this.messageMiddle}${logId}${this.messageTail}${Buffer.from(text, 'utf8').toString('base64')}\n`;
  }

  pingAnswer(serverTimestamp: number, nowMs: number): string {
    this.refresh(nowMs);
    return `${this.pongHead}${serverTimestamp},"monitoring":{"total_memory":512,"memory_usage":97.3,"memory_percent":19,"message_queue_size":0,"active_rooms":1},"auth":${this.authJson},"timestamp":${this.stamp},"timezone":"Asia/Seoul",${POSITIONS}}}\n`;
  }

  private refresh(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second === this.second) return;
    this.second = second;
    const { botName, deviceId } = this.identity;
    const fields = { clientType: CLIENT_TYPE, botName, deviceUUID: DEVICE_UUID, macAddress: MAC_ADDRESS, ipAddress: IP_ADDRESS, timestamp: nowMs };
    this.authJson = JSON.stringify({
      ...fields,
      deviceID: deviceId,
      version: CLIENT_VERSION,
      signature: signAuth(fields, SCRIPT_SECRET_KEY, SCRIPT_SALT),
    });
    this.stamp = JSON.stringify(new Date(nowMs).toISOString());
    this.messageTail = `","user_hash":"bench0000","is_mention":false,"bot_name":${JSON.stringify(botName)},"client_type":"${CLIENT_TYPE}","auth":${this.authJson}}}`;
  }
}

/**
 * What the v3.3 script makes of a server line: the JSON part and, for a text messageResponse,
 * the decoded text. Undefined when the JSON part does not parse.
 */
export function readV33Line(line: string): { event: unknown; data: Record<string, unknown>; text: unknown } | undefined {
  const end = line.lastIndexOf('}');
  if (end < 0) return undefined;
  let packet: { event?: unknown; data?: Record<string, unknown> };
  try {
    packet = JSON.parse(line.slice(0, end + 1)) as typeof packet;
  } catch {
    return undefined;
  }
  const data = packet.data ?? {};
  const text = data.message_type === 'text' ? Buffer.from(line.slice(end + 1).trim(), 'base64').toString('utf8') : data.text;
  return { event: packet.event, data, text };
}
