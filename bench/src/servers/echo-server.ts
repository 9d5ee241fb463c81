import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { ECHO_COMMAND, ECHO_REPLY_PREFIX, SCRIPT_SALT, SCRIPT_SECRET_KEY } from '../protocol/wire.js';
import { LineReader } from '../protocol/line-reader.js';
import { serveBenchIpc } from './server-ipc.js';

/**
 * The baseline: protocol v3.2 with no pipeline. It parses each line, verifies the auth block
 * (identity, ±5 min window, HMAC-SHA256 per packet, constant-time compare) exactly as botbridge
 * must, answers `# echo` at once and sends pings on the same schedule as the bench config. No
 * store, no queue, no ordering machinery, no logging: what one Node process on this machine can
 * do for the same wire work, so botbridge's figures are read as a fraction of it.
 */

const WINDOW_MS = 300_000;
const pingIntervalMs = Number(process.env.BENCH_PING_INTERVAL_MS ?? 30_000);
const pingJitterMs = Number(process.env.BENCH_PING_JITTER_MS ?? 5_000);

const counts = { accepted: 0, open: 0, handshakes: 0, analyze: 0, replies: 0, pingsSent: 0, pingsAnswered: 0, authFailures: 0, badLines: 0 };
const sessions = new Set<EchoSession>();

function verify(auth: unknown, botName: string, deviceId: string): boolean {
  if (typeof auth !== 'object' || auth === null) return false;
  const a = auth as Record<string, unknown>;
  if (a.botName !== botName || a.deviceID !== deviceId) return false;
  const ts = a.timestamp;
  if (typeof ts !== 'number' || Math.abs(Date.now() - ts) > WINDOW_MS || typeof a.signature !== 'string') return false;
  const message = `${a.clientType ?? ''}|${botName}|${a.deviceUUID ?? ''}|${a.macAddress ?? ''}|${a.ipAddress ?? ''}|${ts}|${SCRIPT_SALT}`;
  const expected = createHmac('sha256', SCRIPT_SECRET_KEY).update(message, 'utf8').digest();
  const given = Buffer.from(a.signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

class EchoSession {
  private botName: string | null = null;
  private deviceId = '';
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly reader: LineReader;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    this.reader = new LineReader((line) => this.onLine(line), 1_048_576, () => socket.destroy());
    socket.on('data', (chunk: string) => this.reader.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.closed());
  }

  private onLine(line: string): void {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      counts.badLines += 1;
      return;
    }
    if (this.botName === null) return this.handshake(value);
    const data = value.data as Record<string, unknown> | undefined;
    if (typeof data !== 'object' || data === null) return;
    if (!verify(data.auth, this.botName, this.deviceId)) {
      counts.authFailures += 1;
      return;
    }
    if (value.event === 'analyze') {
      counts.analyze += 1;
      const text = data.text;
      if (typeof text !== 'string' || !text.startsWith(ECHO_COMMAND)) return;
      const reply = { room: data.room, channel_id: data.channelId ?? null, bot_name: this.botName, text: ECHO_REPLY_PREFIX + text.slice(ECHO_COMMAND.length) };
      this.socket.write(`${JSON.stringify({ event: 'messageResponse', data: reply })}\n`);
      counts.replies += 1;
    } else if (value.event === 'ping') {
      counts.pingsAnswered += 1;
    }
  }

  private handshake(value: Record<string, unknown>): void {
    const { botName, version, deviceID } = value;
    if (typeof botName !== 'string' || botName === '' || typeof version !== 'string' || typeof deviceID !== 'string' || deviceID === '') {
      this.socket.destroy();
      return;
    }
    this.botName = botName;
    this.deviceId = deviceID;
    counts.handshakes += 1;
    const data = { success: true, approved: true, message: '승인된 디바이스입니다', server_version: 'bench-echo' };
    this.socket.write(`${JSON.stringify({ event: 'handshakeComplete', data })}\n`);
    this.pingTimer = setTimeout(() => this.ping(), Math.floor(Math.random() * (pingJitterMs + 1)));
  }

  private ping(): void {
    const now = Date.now();
    const data = { bot_name: this.botName, device_id: this.deviceId, server_timestamp: now, is_manual: false, server_info: { total_clients: counts.open, timestamp: now } };
    this.socket.write(`${JSON.stringify({ event: 'ping', data })}\n`);
    counts.pingsSent += 1;
    this.pingTimer = setTimeout(() => this.ping(), pingIntervalMs);
  }

  private closed(): void {
    clearTimeout(this.pingTimer);
    this.reader.stop();
    counts.open -= 1;
    sessions.delete(this);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const server = createServer((socket) => {
  counts.accepted += 1;
  counts.open += 1;
  sessions.add(new EchoSession(socket));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  serveBenchIpc(port, {
    appStats: () => ({ connections: counts.open, counters: { ...counts } }),
    stop: async () => {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return { counters: { ...counts }, chatLogRows: null };
    },
  });
});
