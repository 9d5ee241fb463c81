import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import { SCRIPT_SALT, SCRIPT_SECRET_KEY, type AuthIdentity, type SigningKey } from './auth-signer.js';
import { ClientInbox, type Packet } from './client-inbox.js';
import { LineSplitter } from './line-splitter.js';
import { diffReplies, type ExpectedText } from './reply-diff.js';
import {
  authFor,
  buildAnalyzeData,
  buildHandshake,
  buildLegacyTwin,
  buildPingAnswer,
  encodeLine,
} from './wire-packets.js';
import { buildV33Handshake, buildV33MessageLine, buildV33PingAnswer, encodeV33Line, type PositionsMode } from './wire-v33.js';
import { connectSocket, ServerWalk, type ServerAddress } from './server-walk.js';
import type {
  AnalyzeData,
  AnalyzeInput,
  AnalyzeOptions,
  HandshakeCompleteData,
  MessageResponse,
  PingPacketData,
} from './wire-types.js';

export type {
  AnalyzeData,
  AnalyzeInput,
  AnalyzeOptions,
  AuthBlock,
  AuthVariant,
  HandshakeCompleteData,
  MessageResponse,
  PingPacketData,
} from './wire-types.js';
export type { Packet } from './client-inbox.js';
export type { PositionsMode } from './wire-v33.js';
export type { ServerAddress } from './server-walk.js';

/**
 * A fake MessengerBot R bridge script speaking docs/protocol.md over real TCP, byte for byte.
 * v3.2.x (default): the bare handshake written right after connect, signed `analyze` packets,
 * signed ping answers. v3.3.x (`protocol: '3.3'`): the wrapped handshake, `message` lines with
 * a base64 payload after the JSON (`[0,0]` positions, as Rhino sends them), `pong` answers, and
 * `queued` chat lines written before the handshake like the script's offline queue. It never
 * waits for the server before writing (the real script does not either).
 */

export interface FakeClientOptions {
  readonly host?: string;
  readonly port: number;
  readonly botName?: string;
  readonly deviceId?: string;
  readonly version?: string;
  readonly clientType?: string;
  /** Self-reported address (handshake `deviceIP`, auth `ipAddress`). */
  readonly deviceIP?: string;
  readonly deviceInfo?: string;
  /** minimal = only botName, version, deviceID (some builds); false = send none; an object is sent verbatim. */
  readonly handshake?: 'full' | 'minimal' | false | Readonly<Record<string, unknown>>;
  readonly secretKey?: string;
  readonly salt?: string;
  /** Answer server pings like the script (signed, with a monitoring block). Default true. */
  readonly autoPong?: boolean;
  /** How long `handshake` waits for handshakeComplete before rejecting. Default 5000. */
  readonly handshakeTimeoutMs?: number;
  /** Which script line to be. Default '3.2' (version '3.2.1'); '3.3' defaults to version '3.3.3'. */
  readonly protocol?: '3.2' | '3.3';
  /** v3.3: the ping answer's event, `pong` (bridge.js, v3.3.3; default) or `ping` (v3.3.2+, v3.3.0-a2). */
  readonly pingAnswer?: 'pong' | 'ping';
  /** v3.3: `message_positions` of sent messages: `rhino` ([0,0], default) or `exact` ([0, n]). */
  readonly positions?: PositionsMode;
  /**
   * v3.3: chat lines the script queued while disconnected; they go out before the handshake,
   * in the same write, as its offline queue sends them after a reconnect.
   */
  readonly queued?: ReadonlyArray<string | AnalyzeInput>;
  /**
   * The script's `SERVER_LIST`, in priority order (docs/protocol.md, reconnects). Given, the
   * phone reconnects like the script: after its reconnect delay it walks the list from the
   * server that worked last and stays on the first that accepts; `host`/`port` are then unused
   * except as a default first entry when this is empty.
   */
  readonly servers?: readonly ServerAddress[];
  /**
   * Reconnect after EOF or an error instead of staying closed (default: true with `servers`,
   * false without, as before). `delaysMs`: the waits between attempts, the last one repeating
   * (the script's are 4, 8, 16, 32, 60 s: SCRIPT_RECONNECT_DELAYS_MS, the default). Chat lines
   * sent while disconnected are queued for 30 s and at most 10 go out after the next handshake.
   */
  readonly reconnect?: boolean | { readonly delaysMs?: readonly number[] };
}

/** One TCP connection of a reconnecting phone, as the phone saw it (epoch ms). */
export interface ConnectionRecord {
  readonly server: ServerAddress;
  readonly connectedAt: number;
  /** When its handshakeComplete arrived (null: none yet, or never). */
  handshakeAt: number | null;
  closedAt: number | null;
  closeHow: string | null;
}

const DEFAULT_WAIT_MS = 5_000;
const DEFAULT_QUIET_MS = 300;
const CLOSE_GRACE_MS = 1_000;
const DEVICE_UUID = 'unknown';
const MAC_ADDRESS = '02:00:00:00:00:00';
/** The script's offline queue: lines kept 30 s, at most 10 sent after a reconnect. */
const OFFLINE_TTL_MS = 30_000;
const OFFLINE_SENT_MAX = 10;

interface Identity extends AuthIdentity {
  readonly deviceInfo: string;
}

export class FakeBridgeClient {
  /**
   * Connects, writes the handshake line at once, resolves without waiting for an answer. With
   * `servers`, the first connect walks the list (the first server that accepts).
   */
  static async connect(options: FakeClientOptions): Promise<FakeBridgeClient> {
    const walk = FakeBridgeClient.#walkOf(options);
    const socket = walk === null ? await connectSocket(options.host ?? '127.0.0.1', options.port) : await walk.connect();
    return new FakeBridgeClient(socket, options, walk);
  }

  static #walkOf(options: FakeClientOptions): ServerWalk | null {
    const reconnect = options.reconnect ?? options.servers !== undefined;
    if (reconnect === false) return null;
    const servers = options.servers !== undefined && options.servers.length > 0 ? options.servers : [{ host: options.host ?? '127.0.0.1', port: options.port }];
    return new ServerWalk(servers, typeof reconnect === 'object' ? reconnect.delaysMs ?? [] : []);
  }

  /** `data` of the server's handshakeComplete; rejects if the connection closes first or it is late. */
  readonly handshake: Promise<HandshakeCompleteData>;
  /** Resolves when the connection closed: server EOF or reset (or `close()`). Never rejects. */
  readonly closed: Promise<void>;
  readonly botName: string;
  readonly deviceId: string;

  #socket: Socket;
  readonly #identity: Identity;
  readonly #key: SigningKey;
  readonly #autoPong: boolean;
  readonly #v33: boolean;
  readonly #pingAnswer: 'pong' | 'ping';
  readonly #positions: PositionsMode;
  readonly #inbox: ClientInbox;
  /** Null: one connection, as before; else how the phone finds a server after a failure. */
  readonly #walk: ServerWalk | null;
  readonly #form: NonNullable<FakeClientOptions['handshake']>;
  readonly #history: ConnectionRecord[] = [];
  readonly #offline: { line: string; at: number }[] = [];
  readonly #handshakeWaiters = new Set<() => void>();
  #reconnectTimer: NodeJS.Timeout | undefined;
  #finalClose: () => void = () => {};
  readonly #knownChannels = new Set<string>();
  readonly #logIdBase = 7_000_000_000_000_000_000n + BigInt(randomInt(0, 2 ** 40)) * 1_000_000n;
  #logIdSeq = 0n;
  #closing: Promise<void> | null = null;

  private constructor(socket: Socket, options: FakeClientOptions, walk: ServerWalk | null = null) {
    this.#socket = socket;
    this.#walk = walk;
    this.#form = options.handshake ?? 'full';
    this.botName = options.botName ?? 'LOA.i';
    this.deviceId = options.deviceId ?? 'a1b2c3d4e5f60718';
    this.#identity = {
      clientType: options.clientType ?? 'MessengerBotR',
      botName: this.botName,
      deviceUUID: DEVICE_UUID,
      deviceID: this.deviceId,
      macAddress: MAC_ADDRESS,
      ipAddress: options.deviceIP ?? '192.168.0.23',
      version: options.version ?? (options.protocol === '3.3' ? '3.3.3' : '3.2.1'),
      deviceInfo: options.deviceInfo ?? 'samsung SM-G991N (Android 13, API 33)',
    };
    this.#key = { secretKey: options.secretKey ?? SCRIPT_SECRET_KEY, salt: options.salt ?? SCRIPT_SALT };
    this.#autoPong = options.autoPong ?? true;
    this.#v33 = options.protocol === '3.3';
    this.#pingAnswer = options.pingAnswer ?? 'pong';
    this.#positions = options.positions ?? 'rhino';

    let answered: (data: HandshakeCompleteData) => void = () => {};
    this.#inbox = new ClientInbox((data) => answered(data), this.#v33);
    this.handshake = this.#awaitHandshake(options.handshakeTimeoutMs ?? DEFAULT_WAIT_MS, (fn) => (answered = fn));
    // One connection: closed when its socket closes. Reconnecting: only when the test closes it.
    this.closed = new Promise((resolve) => (this.#finalClose = resolve));
    this.#attach(socket);

    // v3.3: one write, like the script's queue flush: queued chat lines first, the handshake behind them.
    const early = this.#v33 ? (options.queued ?? []).map((input) => this.#messageLine(input, {}).line).join('') : '';
    this.#writeHandshake(early);
  }

  /** Wires one TCP connection; a reconnecting phone calls it again for each new one. */
  #attach(socket: Socket): void {
    const record: ConnectionRecord = {
      server: this.#walk?.current ?? { host: socket.remoteAddress ?? '127.0.0.1', port: socket.remotePort ?? 0 },
      connectedAt: Date.now(), handshakeAt: null, closedAt: null, closeHow: null,
    };
    this.#history.push(record);
    const splitter = new LineSplitter();
    const ended = (how: string) => {
      record.closeHow ??= how;
      if (this.#walk === null || this.#closing !== null) this.#inbox.markClosed(how);
    };
    socket.once('end', () => {
      this.#onEnd(splitter);
      ended('EOF from server');
    });
    socket.once('close', () => {
      this.#onEnd(splitter);
      ended('socket closed');
      record.closedAt = Date.now();
      if (this.#walk === null || this.#closing !== null) this.#finalClose();
      else this.#scheduleReconnect();
    });
    socket.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) this.#onLine(line);
    });
    // A reset or a write into a dead socket is an outcome tests look at, never a crash.
    socket.on('error', (error: NodeJS.ErrnoException) => ended(`error ${error.code ?? error.message}`));
    socket.setNoDelay(true);
  }

  #writeHandshake(before: string): void {
    const form = this.#form;
    const fields = { ...this.#identity, deviceIP: this.#identity.ipAddress };
    if (!this.#v33) {
      if (form === false) return;
      this.#write(encodeLine(typeof form === 'object' ? form : buildHandshake(fields, form)));
      return;
    }
    let lines = before;
    if (form !== false) lines += encodeLine(typeof form === 'object' ? form : buildV33Handshake(fields, new Date()));
    if (lines !== '') this.#write(lines);
  }

  #scheduleReconnect(): void {
    const walk = this.#walk!;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#closing !== null) return;
      walk.connect().then(
        (socket) => {
          if (this.#closing !== null) {
            socket.destroy();
            return;
          }
          this.#socket = socket;
          this.#attach(socket);
          // Like the script: the handshake, then what it queued while away (30 s, at most 10).
          const now = Date.now();
          const queued = this.#offline.splice(0).filter((q) => now - q.at <= OFFLINE_TTL_MS).slice(0, OFFLINE_SENT_MAX);
          const lines = queued.map((q) => q.line).join('');
          if (this.#v33) this.#writeHandshake(lines);
          else {
            this.#writeHandshake('');
            if (lines !== '') this.#write(lines);
          }
        },
        () => this.#scheduleReconnect(),
      );
    }, walk.nextDelayMs());
  }

  /** Every TCP connection so far (a reconnecting phone has one per successful connect). */
  get connections(): readonly ConnectionRecord[] {
    return this.#history;
  }

  /** Whether the current connection is open and its handshake was answered. */
  get connected(): boolean {
    const last = this.#history.at(-1);
    return last !== undefined && last.closedAt === null && last.handshakeAt !== null;
  }

  /** Resolves at the next handshakeComplete (a reconnect), or at once while `connected` if `orNow`. */
  nextHandshake(timeoutMs = DEFAULT_WAIT_MS, orNow = false): Promise<void> {
    if (orNow && this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#handshakeWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#handshakeWaiters.delete(done);
        reject(new Error(`no handshakeComplete within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#handshakeWaiters.add(done);
    });
  }

  /** Every messageResponse `data`, in arrival order. */
  get replies(): readonly MessageResponse[] {
    return this.#inbox.replies;
  }

  /** Every server ping `data`, in arrival order. */
  get pings(): readonly PingPacketData[] {
    return this.#inbox.pings;
  }

  /** Every well-formed packet received, in arrival order. */
  get packets(): readonly Packet[] {
    return this.#inbox.packets;
  }

  /** Lines that were not a JSON object (recorded and skipped, like the script). */
  get badLines(): readonly string[] {
    return this.#inbox.badLines;
  }

  /** How the connection ended (`EOF from server`, `error ECONNRESET`, `closed by the test`), or null. */
  get closeReason(): string | null {
    return this.#inbox.closedHow;
  }

  /** Sends one chat line (and its legacy twin after it); returns the `data` written. */
  analyze(input: string | AnalyzeInput, options: AnalyzeOptions = {}): AnalyzeData {
    if (this.#v33) {
      // v3.3 has no legacy twin: the script's response() entry point is dead.
      const { data, line } = this.#messageLine(input, options);
      this.#send(line);
      return data;
    }
    const { base, data, now } = this.#chatLine(input, options);
    let lines = encodeLine({ event: 'analyze', data });
    if (options.legacyTwin) {
      lines += encodeLine({ event: 'analyze', data: this.#withAuth(buildLegacyTwin(base), options, now.getTime()) });
    }
    this.#send(lines);
    return data;
  }

  /** A chat line: written, or (a reconnecting phone between connections) kept in the offline queue. */
  #send(lines: string): void {
    if (this.#walk !== null && this.#closing === null && !this.connected) {
      this.#offline.push({ line: lines, at: Date.now() });
      return;
    }
    this.#write(lines);
  }

  /** Writes bytes as they are (no newline added). */
  sendRaw(data: string | Buffer): void {
    this.#write(data);
  }

  /** The next reply not yet consumed by nextReply/waitForReplies/shouldReply. */
  async nextReply(timeoutMs = DEFAULT_WAIT_MS): Promise<MessageResponse> {
    const [reply] = await this.#inbox.takeReplies(1, timeoutMs);
    return reply!;
  }

  waitForReplies(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<MessageResponse[]> {
    return this.#inbox.takeReplies(count, timeoutMs);
  }

  /** The next not-yet-taken whole packet (`{event, data}`) with that event. */
  nextPacket(event: string, timeoutMs = DEFAULT_WAIT_MS): Promise<Record<string, unknown>> {
    return this.#inbox.takePacket(event, timeoutMs);
  }

  /** Stops reading the socket, so the server's output piles up (a stuck phone). */
  stopReading(): void {
    this.#socket.pause();
  }

  resumeReading(): void {
    this.#socket.resume();
  }

  /**
   * Sends `input` and expects exactly the given reply texts, in order. Replies that arrived
   * before the send are not looked at (they answer something else).
   */
  async shouldReply(
    input: string | AnalyzeInput,
    expected: ExpectedText | readonly ExpectedText[],
    options: { timeoutMs?: number } = {},
  ): Promise<void> {
    const wanted: readonly ExpectedText[] = typeof expected === 'string' || expected instanceof RegExp ? [expected] : expected;
    if (wanted.length === 0) return this.shouldNotReply(input);
    this.#inbox.skipReplies();
    const from = this.#inbox.replies.length;
    const sent = this.analyze(input);
    let texts: string[];
    let waitError: string | undefined;
    try {
      texts = (await this.#inbox.takeReplies(wanted.length, options.timeoutMs ?? DEFAULT_WAIT_MS)).map((r) => r.text);
    } catch (error) {
      waitError = (error as Error).message;
      texts = this.#inbox.replies.slice(from).map((r) => r.text);
      this.#inbox.skipReplies();
    }
    const diff = diffReplies(wanted, texts);
    if (diff === undefined && waitError === undefined) return;
    const plural = (n: number) => `${n} repl${n === 1 ? 'y' : 'ies'}`;
    const head =
      texts.length === wanted.length
        ? `shouldReply(${JSON.stringify(sent.text)}): ${plural(texts.length)} as expected, but not the expected text`
        : `shouldReply(${JSON.stringify(sent.text)}): expected ${plural(wanted.length)}, got ${texts.length}`;
    throw new Error([head, diff ?? '', waitError ? `  (${waitError})` : ''].filter(Boolean).join('\n'));
  }

  /** Sends `input` and expects no reply for `quietMs`, with the connection still open. */
  async shouldNotReply(input: string | AnalyzeInput, options: { quietMs?: number } = {}): Promise<void> {
    this.#inbox.skipReplies();
    const from = this.#inbox.replies.length;
    const sent = this.analyze(input);
    await new Promise((resolve) => setTimeout(resolve, options.quietMs ?? DEFAULT_QUIET_MS));
    const texts = this.#inbox.replies.slice(from).map((r) => r.text);
    this.#inbox.skipReplies();
    if (texts.length > 0) {
      throw new Error(`shouldNotReply(${JSON.stringify(sent.text)}): got ${texts.length} repl${texts.length === 1 ? 'y' : 'ies'}: ${texts.map((t) => JSON.stringify(t)).join(', ')}`);
    }
    // A closed connection cannot reply: passing then would prove nothing.
    if (this.closeReason !== null) {
      throw new Error(`shouldNotReply(${JSON.stringify(sent.text)}): the connection is closed (${this.closeReason}), so silence proves nothing`);
    }
  }

  /** Ends the connection (FIN, reset after a grace period); idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      // Pending waits fail now: nothing more will be read.
      this.#inbox.markClosed('closed by the test');
      clearTimeout(this.#reconnectTimer);
      const socket = this.#socket;
      if (socket.destroyed) {
        this.#finalClose();
        return resolve();
      }
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
      socket.resume();
    });
    return this.#closing;
  }

  #awaitHandshake(
    timeoutMs: number,
    register: (answered: (data: HandshakeCompleteData) => void) => void,
  ): Promise<HandshakeCompleteData> {
    const promise = new Promise<HandshakeCompleteData>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`waited for handshakeComplete, but none came within ${timeoutMs} ms`)), timeoutMs);
      register((data) => {
        clearTimeout(timer);
        resolve(data);
      });
      this.#socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`waited for handshakeComplete, but the connection closed (${this.#inbox.closedHow ?? 'socket closed'})`));
      });
    });
    // Nobody may await it (handshake: false, a refused client): that must not be an unhandled rejection.
    promise.catch(() => {});
    return promise;
  }

  /** A v3.3 `message` line; `data` is its v3.2 equivalent (what tests compare). */
  #messageLine(input: string | AnalyzeInput, options: AnalyzeOptions): { data: AnalyzeData; line: string } {
    const { data, now } = this.#chatLine(input, options);
    return { data, line: buildV33MessageLine(data, data.auth, now, this.#positions) };
  }

  /** One chat line's fields with a fresh logId: without auth (`base`) and signed (`data`). */
  #chatLine(input: string | AnalyzeInput, options: AnalyzeOptions): { base: AnalyzeData; data: AnalyzeData; now: Date } {
    const fields = typeof input === 'string' ? { text: input } : input;
    const now = new Date();
    this.#logIdSeq += 1n;
    const base = buildAnalyzeData(fields, {
      botName: this.botName,
      clientType: this.#identity.clientType,
      logId: String(this.#logIdBase + this.#logIdSeq),
      now,
    });
    if (base.channelId !== null) this.#knownChannels.add(base.channelId);
    return { base, data: this.#withAuth(base, options, now.getTime()), now };
  }

  #withAuth(data: AnalyzeData, options: AnalyzeOptions, now: number): AnalyzeData {
    const auth = authFor(options.auth ?? 'valid', { ...this.#identity, botName: data.botName }, this.#key, now);
    return auth === undefined ? data : { ...data, auth };
  }

  #onEnd(splitter: LineSplitter): void {
    const rest = splitter.end();
    if (rest !== undefined) this.#onLine(rest);
  }

  #onLine(line: string): void {
    const packet = this.#inbox.acceptLine(line);
    if (packet?.event === 'handshakeComplete') {
      const last = this.#history.at(-1);
      if (last !== undefined) last.handshakeAt ??= Date.now();
      for (const waiter of [...this.#handshakeWaiters]) waiter();
    }
    if (packet?.event !== 'ping' || !this.#autoPong) return;
    // Like the script: no answer to a ping without data, and bot_name is echoed, not our own.
    if (packet.data === null || typeof packet.data !== 'object') return;
    const data = packet.data as Partial<PingPacketData>;
    const auth = authFor('valid', this.#identity, this.#key, Date.now())!;
    if (this.#v33) {
      this.#write(encodeV33Line(buildV33PingAnswer(this.#pingAnswer, data.bot_name as string, data.server_timestamp, this.#monitoring(), auth, new Date())));
      return;
    }
    this.#write(encodeLine(buildPingAnswer(data.bot_name as string, data.server_timestamp, this.#monitoring(), auth)));
  }

  #monitoring() {
    return {
      total_memory: 512,
      memory_usage: 97.3,
      memory_percent: 19,
      message_queue_size: 0,
      active_rooms: this.#knownChannels.size,
    };
  }

  #write(data: string | Buffer): void {
    // Like the script, anything written into a dead socket is lost.
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    this.#socket.write(data);
  }
}
