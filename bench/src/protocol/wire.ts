import { createHmac } from 'node:crypto';

/**
 * The bridge script's side of protocol v3.2 (PROTOCOL.md §2–§4) for the load generator, written
 * for cheapness: lines are assembled from per-connection prefixes, and the auth block is signed
 * once per second per identity. That is legitimate because the signature covers no content (§4):
 * a block stays valid for the server's ±5 min window, so reusing it for a second changes nothing
 * the server checks, while an HMAC per message would make the generator the bottleneck.
 */

/** Built into every deployed v3.2.x script (PROTOCOL.md §4); the bench servers use the defaults. */
export const SCRIPT_SECRET_KEY = '8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8';
export const SCRIPT_SALT = '7f$kLz9^&*1pXyZ2';

const CLIENT_TYPE = 'MessengerBotR';
const CLIENT_VERSION = '3.2.1';
const DEVICE_UUID = 'unknown';
const MAC_ADDRESS = '02:00:00:00:00:00';
const IP_ADDRESS = '127.0.0.1';

/** The echo command and the reply prefix of `@botbridge/plugin-commands` (and of the baseline). */
export const ECHO_COMMAND = '# echo ';
export const ECHO_REPLY_PREFIX = '에코: ';

export interface BenchIdentity {
  readonly botName: string;
  readonly deviceId: string;
  /** One room per connection: its channel id (a decimal string, as the script sends it). */
  readonly channelId: string;
  readonly room: string;
  /** Which script line the connection plays (docs/protocol.md); default '3.2'. */
  readonly protocol?: '3.2' | '3.3';
}

/** What a generator connection writes; one implementation per script line. */
export interface BenchWire {
  handshake(): string;
  analyze(text: string, logId: number, nowMs: number): string;
  pingAnswer(serverTimestamp: number, nowMs: number): string;
}

/** HMAC-SHA256 over `clientType|botName|deviceUUID|macAddress|ipAddress|timestamp|salt`, lowercase hex. */
export function signAuth(
  fields: { clientType: string; botName: string; deviceUUID: string; macAddress: string; ipAddress: string; timestamp: number },
  secretKey: string = SCRIPT_SECRET_KEY,
  salt: string = SCRIPT_SALT,
): string {
  const message = `${fields.clientType}|${fields.botName}|${fields.deviceUUID}|${fields.macAddress}|${fields.ipAddress}|${fields.timestamp}|${salt}`;
  return createHmac('sha256', secretKey).update(message, 'utf8').digest('hex');
}

/** The bare handshake line (§2.2), as v3.2.1 writes it. */
export function handshakeLine(id: BenchIdentity): string {
  return `${JSON.stringify({
    clientType: CLIENT_TYPE,
    botName: id.botName,
    version: CLIENT_VERSION,
    deviceID: id.deviceId,
    deviceIP: IP_ADDRESS,
    deviceInfo: 'botbridge bench generator',
  })}\n`;
}

/** The phone's local time as the script formats it (`YYYY-MM-DD HH:mm:ss`). */
function phoneTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Line builder of one generator connection. `analyze()` and `pingAnswer()` cost two string
 * concatenations and, once a second, one HMAC.
 */
export class ScriptWire implements BenchWire {
  private second = -1;
  private authJson = '';
  /** From the logId's closing quote to the end of the line; rebuilt with the auth block. */
  private analyzeTail = '';
  private readonly analyzeHead: string;
  private readonly analyzeMiddle: string;
  private readonly pingHead: string;

  constructor(readonly identity: BenchIdentity) {
    const { room, channelId, botName } = identity;
    this.analyzeHead = `{"event":"analyze","data":{"room":${JSON.stringify(room)},"text":`;
    this.pingHead = `{"event":"ping","data":{"bot_name":${JSON.stringify(botName)},"server_timestamp":`;
    // Everything between the text and the logId is constant for the connection.
    this.analyzeMiddle = `,"sender":"벤치사용자","isGroupChat":true,"channelId":"${channelId}","logId":"`;
  }

  handshake(): string {
    return handshakeLine(this.identity);
  }

  /** `text` must be JSON-safe without escaping (the generator's tokens are ASCII). */
  analyze(text: string, logId: number, nowMs: number): string {
    this.refresh(nowMs);
    return `${this.analyzeHead}"${text}"${this.analyzeMiddle}${logId}${this.analyzeTail}`;
  }

  /** The answer to a server ping: its timestamp echoed, the phone's monitoring block, signed (§3). */
  pingAnswer(serverTimestamp: number, nowMs: number): string {
    this.refresh(nowMs);
    return `${this.pingHead}${serverTimestamp},"monitoring":{"total_memory":512,"memory_usage":97.3,"memory_percent":19,"message_queue_size":0,"active_rooms":1},"auth":${this.authJson}}}\n`;
  }

  private refresh(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second === this.second) return;
    this.second = second;
    const fields = {
      clientType: CLIENT_TYPE,
      botName: this.identity.botName,
      deviceUUID: DEVICE_UUID,
      macAddress: MAC_ADDRESS,
      ipAddress: IP_ADDRESS,
      timestamp: nowMs,
    };
    this.authJson = JSON.stringify({
      clientType: CLIENT_TYPE,
      botName: this.identity.botName,
      deviceUUID: DEVICE_UUID,
      deviceID: this.identity.deviceId,
      macAddress: MAC_ADDRESS,
      ipAddress: IP_ADDRESS,
      timestamp: nowMs,
      version: CLIENT_VERSION,
      signature: signAuth(fields),
    });
    this.analyzeTail =
      `","userHash":"bench0000","isMention":false,"timestamp":${JSON.stringify(phoneTime(nowMs))},` +
      `"botName":${JSON.stringify(this.identity.botName)},"clientType":"${CLIENT_TYPE}","auth":${this.authJson}}}\n`;
  }
}
