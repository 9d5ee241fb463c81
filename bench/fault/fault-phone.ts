import { FakeBridgeClient } from '@botbridge/testing';

/** One message a phone wrote into its socket. */
export interface SentMessage {
  readonly logId: string;
  readonly phone: number;
  readonly room: string;
  /** Position in its room's send order. */
  readonly seq: number;
  /** performance.now() at the write. */
  readonly at: number;
  /** Which of the phone's connections carried it (1-based). */
  readonly conn: number;
}

/** One reply a phone read from its socket. */
export interface Reception {
  /** The log id the reply names (`echo <logId>`), or null for a reply of another shape. */
  readonly logId: string | null;
  readonly phone: number;
  readonly room: string;
  readonly at: number;
  readonly conn: number;
}

export interface PhoneOptions {
  readonly port: number;
  readonly index: number;
  readonly botName: string;
  /** Reconnect after a close: the script waits 4, 8, 16, 32 s, then 60 s; the suite may be faster. */
  readonly reconnectDelaysMs?: readonly number[];
  /** First log id of this phone; ids grow by one per message. */
  readonly logIdBase: bigint;
  /**
   * The phone's server list (cluster scenario): the fake phone walks it itself after its
   * reconnect delay (FakeBridgeClient `servers`), staying on the first server that accepts.
   */
  readonly servers?: readonly number[];
}

const DEFAULT_DELAYS = [4_000, 8_000, 16_000, 32_000, 60_000];

/**
 * A phone for the fault suite: the fake bridge script (`FakeBridgeClient`, the real protocol),
 * one room, a history of everything it sent and received over all its connections, and the
 * script's reconnect loop. Like the v3.2 script it never resends: a message written into a
 * socket that then died is simply gone from the phone's point of view.
 */
export class FaultPhone {
  readonly sent: SentMessage[] = [];
  readonly received: Reception[] = [];
  /** Close reasons seen by the phone, with the time. */
  readonly closes: { at: number; how: string }[] = [];
  readonly deviceId: string;
  readonly room: string;
  readonly channelId: string;
  connections = 0;
  /** Messages the driver wanted to send while the phone had no connection (not sent, not counted). */
  skipped = 0;
  private client: FakeBridgeClient | null = null;
  private stopped = false;
  private attempt = 0;
  private seq = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly delays: readonly number[];

  constructor(private readonly options: PhoneOptions) {
    this.deviceId = `fault-dev-${String(options.index).padStart(3, '0')}`;
    this.room = `fault-room-${options.index}`;
    this.channelId = String(900_000_000 + options.index);
    this.delays = options.reconnectDelaysMs ?? DEFAULT_DELAYS;
  }

  get index(): number {
    return this.options.index;
  }

  get connected(): boolean {
    if (this.options.servers !== undefined) return this.client?.connected ?? false;
    return this.client !== null && this.client.closeReason === null;
  }

  /** The walking phone's connections (server port, times), for the outage figures. */
  get connectionRecords() {
    return this.client?.connections ?? [];
  }

  /** Connects once (rejects when refused); with `keep`, reconnects after every close until `stop()`. */
  async connect(keep = true): Promise<void> {
    if (this.options.servers !== undefined) return this.connectWalking();
    const client = await FakeBridgeClient.connect({ port: this.options.port, botName: this.options.botName, deviceId: this.deviceId });
    this.connections += 1;
    this.attempt = 0;
    this.client = client;
    const conn = this.connections;
    void this.readReplies(client, conn);
    void client.closed.then(() => {
      this.closes.push({ at: performance.now(), how: client.closeReason ?? 'closed' });
      if (this.client === client) this.client = null;
      if (keep && !this.stopped) this.scheduleReconnect();
    });
    await client.handshake;
  }

  /** A phone with a server list: one FakeBridgeClient that reconnects and walks the list itself. */
  private async connectWalking(): Promise<void> {
    const client = await FakeBridgeClient.connect({
      port: 0, botName: this.options.botName, deviceId: this.deviceId,
      servers: this.options.servers!.map((port) => ({ port })), reconnect: { delaysMs: this.delays },
    });
    this.client = client;
    this.connections = 1;
    void this.readReplies(client, 0);
    await client.handshake;
  }

  /** Writes one chat line if connected; returns false (and counts a skip) otherwise. */
  send(): boolean {
    const client = this.client;
    if (this.options.servers !== undefined && client !== null) this.connections = client.connections.length;
    if (client === null || client.closeReason !== null || !this.connected) {
      this.skipped += 1;
      return false;
    }
    const seq = this.seq++;
    const logId = String(this.options.logIdBase + BigInt(seq));
    client.analyze({ text: `m${seq}`, logId, room: this.room, channelId: this.channelId });
    this.sent.push({ logId, phone: this.index, room: this.room, seq, at: performance.now(), conn: this.connections });
    return true;
  }

  /** The phone goes away (no reconnect until `connect` is called again). */
  async disconnect(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.client?.close();
    this.client = null;
  }

  /** Back to reconnecting after `disconnect` (the caller connects). */
  resume(): void {
    this.stopped = false;
  }

  async stop(): Promise<void> {
    await this.disconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.delays[Math.min(this.attempt, this.delays.length - 1)]!;
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      this.connect(true).catch(() => {
        // Refused (server down): try again later, like the script.
        if (!this.stopped && this.client === null && this.reconnectTimer === null) this.scheduleReconnect();
      });
    }, delay);
  }

  private async readReplies(client: FakeBridgeClient, conn: number): Promise<void> {
    for (;;) {
      let reply: { text: string; room: string };
      try {
        reply = await client.nextReply(3_600_000);
      } catch {
        return; // closed
      }
      const logId = reply.text.startsWith('echo ') ? reply.text.slice(5) : null;
      // A reply may be routed to another live device of the bot: its room is the reply's own.
      this.received.push({ logId, phone: this.index, room: reply.room, at: performance.now(), conn: conn === 0 ? client.connections.length : conn });
    }
  }
}

/** Connects `count` phones of one bot, in parallel batches (the handshake slots are bounded). */
export async function connectPhones(
  count: number,
  options: Omit<PhoneOptions, 'index' | 'logIdBase' | 'servers'> & { runBase?: bigint; serversOf?: (index: number) => readonly number[] },
): Promise<FaultPhone[]> {
  const base = options.runBase ?? 8_000_000_000_000n;
  const phones = Array.from({ length: count }, (_, index) => new FaultPhone({
    ...options, index, logIdBase: base + BigInt(index) * 10_000_000n, ...(options.serversOf ? { servers: options.serversOf(index) } : {}),
  }));
  for (let i = 0; i < phones.length; i += 25) await Promise.all(phones.slice(i, i + 25).map((p) => p.connect()));
  return phones;
}
