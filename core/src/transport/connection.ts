import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { ConnectionInfo } from '@botbridge/sdk';
import { formatMessage, reasonOf, type BridgeErrorCode } from '../errors.js';
import { splitFrame } from '../protocol/codec-select.js';
import { LineSplitter } from '../protocol/line-splitter.js';
import { JsonBytePrescan } from '../protocol/byte-prescan.js';
import { parseJsonLine, type JsonErrorCode, type JsonLimits, type JsonLineResult } from '../protocol/safe-json.js';
import { TokenBucket, type RateLimits, type ThrottleKind } from './rate-limit.js';

/** Lines up to this long, read whole in one chunk, skip the byte prescan (LineSplitter). */
const SHORT_LINE_BYTES = 4_096;

/** Why a connection closed: the code passed to close(), or what the socket did. */
export type CloseReason = BridgeErrorCode | 'client-closed' | 'socket-error' | 'handler-error' | (string & {});

export interface ConnectionOptions {
  /** Initial line limit incl. `\n` (the pre-handshake limit); raised with setLineLimit(). */
  readonly lineLimit: number;
  readonly json: JsonLimits;
  /** Unsent output beyond this closes the connection: the client stopped reading. */
  readonly maxPendingOutputBytes: number;
  /** How long close() lets queued output flush before destroying the socket. Default 2000. */
  readonly closeGraceMs?: number;
  /** TCP keepalive initial delay. Default 30000. */
  readonly keepAliveMs?: number;
  /** Read rate limits; over them reading pauses until the bucket refills. Absent: unlimited. */
  readonly rate?: RateLimits;
  /** A connection was throttled (counted by the caller as `connections_throttled{kind}`). */
  readonly onThrottled?: (kind: ThrottleKind) => void;
}

/** Given to start(). Handlers must not throw; if one does, the connection closes ('handler-error'). */
export interface ConnectionHandlers {
  /**
   * One packet per line, in arrival order: the parsed JSON part and `raw`, what followed its last
   * `}` (a v3.3 payload, protocol/codec-select.ts; '' for a plain JSON line).
   */
  onPacket(value: unknown, raw: string): void;
  /** A line that failed parseJsonLine; the session decides (close before handshake, skip after). */
  onBadLine(code: JsonErrorCode, reason: string, params: Readonly<Record<string, unknown>>): void;
  /** Fires exactly once, after the socket closed, with the first reason. */
  onClose(reason: CloseReason, detail: string | undefined): void;
}

/** The listener's view, for its caps and counts. */
export interface ConnectionObserver {
  handshaken(conn: Connection): void;
  closed(conn: Connection): void;
}

/**
 * One client socket: bounded framing, guarded JSON, backpressure-aware writes, reading paused
 * by named reasons, and an idempotent close that flushes before it destroys.
 */
export class Connection {
  readonly id = randomBytes(6).toString('base64url');
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt = Date.now();
  private readonly socket: Socket;
  private readonly splitter: LineSplitter;
  private readonly json: JsonLimits;
  private readonly maxPendingOutputBytes: number;
  private readonly closeGraceMs: number;
  private readonly observer: ConnectionObserver | undefined;
  private handlers: ConnectionHandlers | null = null;
  private readonly pauseReasons = new Set<string>();
  /** Reading-paused time of finished pauses, and when the current pause began (0: reading). */
  private pausedTotalMs = 0;
  private pausedSince = 0;
  private handshaken = false;
  private closeReason: CloseReason | null = null;
  private closeDetail: string | undefined;
  private closed = false;
  private destroyTimer: NodeJS.Timeout | undefined;
  private readonly byteBucket: TokenBucket | undefined;
  private readonly messageBucket: TokenBucket | undefined;
  private readonly onThrottled: ((kind: ThrottleKind) => void) | undefined;
  private throttleTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, options: ConnectionOptions, observer?: ConnectionObserver) {
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.json = options.json;
    this.maxPendingOutputBytes = options.maxPendingOutputBytes;
    this.closeGraceMs = options.closeGraceMs ?? 2_000;
    this.observer = observer;
    const rate = options.rate;
    if (rate !== undefined) {
      this.byteBucket = new TokenBucket(rate.bytesPerSecond, Math.max(rate.minByteBurst ?? 0, rate.bytesPerSecond * rate.burstSeconds));
      this.messageBucket = new TokenBucket(rate.messagesPerSecond, rate.messagesPerSecond * rate.burstSeconds);
    }
    this.onThrottled = options.onThrottled;
    this.splitter = new LineSplitter({
      limit: options.lineLimit,
      onLine: (line, prescanned) => this.deliver(line, prescanned),
      // Limits are checked on the bytes as they arrive: a hostile line is never joined or decoded.
      prescan: new JsonBytePrescan(options.json),
      onRejected: (rejected) => this.deliverParsed(rejected, ''),
      // Except a short line read whole in one chunk (every chat packet): its decoding costs less
      // than the byte scan, and the string prescan then checks it (1.3 instead of 2.5 µs for a
      // 570-byte analyze packet: bench/analysis.md, issue 10).
      prescanShortLinesAbove: SHORT_LINE_BYTES,
      onError: (code, params) => this.close(code, formatMessage(code, { ...params })),
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, options.keepAliveMs ?? 30_000);
    // ECONNRESET/EPIPE arrive here; without a listener they would crash the process.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.closeReason === null) {
        this.closeReason = 'socket-error';
        this.closeDetail = error.code ?? error.message;
        this.splitter.stop();
      }
    });
    socket.on('close', () => this.onSocketClose());
  }

  /** Starts reading. Until then nothing is read (the listener accepts with pauseOnConnect). */
  start(handlers: ConnectionHandlers): void {
    if (this.handlers !== null) throw new Error(`connection ${this.id} already started`);
    this.handlers = handlers;
    if (this.closed) return;
    // Paused first so that attaching 'data' does not switch the stream to flowing.
    if (this.pauseReasons.size > 0) this.socket.pause();
    this.socket.on('data', (chunk: Buffer) => this.received(chunk));
    if (this.pauseReasons.size === 0) this.socket.resume();
  }

  get isHandshaken(): boolean {
    return this.handshaken;
  }

  get isClosing(): boolean {
    return this.closeReason !== null;
  }

  /** Bytes written but not yet handed to the kernel. */
  get pendingOutputBytes(): number {
    return this.socket.writableLength;
  }

  get readingPaused(): boolean {
    return this.pauseReasons.size > 0;
  }

  /**
   * Milliseconds during which this side held reading paused, up to now (monotonic clock). The
   * session subtracts it from a client's silence: a ping answer we did not read is not silence.
   */
  pausedMs(): number {
    return this.pausedSince === 0 ? this.pausedTotalMs : this.pausedTotalMs + (performance.now() - this.pausedSince);
  }

  get lineLimit(): number {
    return this.splitter.currentLimit;
  }

  info(): ConnectionInfo {
    return {
      connectionId: this.id,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      connectedAt: this.connectedAt,
    };
  }

  /** Moves the connection out of the listener's handshake cap. */
  markHandshaken(): void {
    if (this.handshaken) return;
    this.handshaken = true;
    this.observer?.handshaken(this);
  }

  /** Applies to every line not yet delivered, including lines of a chunk already received. */
  setLineLimit(bytes: number): void {
    this.splitter.setLimit(bytes);
  }

  /**
   * Queues one encoded line. Returns false when the connection can no longer write. Strings are
   * encoded here so that writableLength counts bytes (net sockets count string chunks in UTF-16
   * units, which would undercount Korean text threefold).
   */
  write(line: string): boolean {
    if (this.closeReason !== null || !this.socket.writable) return false;
    this.socket.write(Buffer.from(line, 'utf8'));
    const pending = this.socket.writableLength;
    if (pending > this.maxPendingOutputBytes) {
      const params = { bytes: pending, limit: this.maxPendingOutputBytes };
      this.close('BRIDGE_ERR_OUTPUT_OVERFLOW', formatMessage('BRIDGE_ERR_OUTPUT_OVERFLOW', params));
      return false;
    }
    return true;
  }

  /** Reading stops while any reason is held. Lines already received are kept, not dropped. */
  pauseReading(reason: string): void {
    if (this.closeReason !== null) return;
    this.pauseReasons.add(reason);
    if (this.pauseReasons.size === 1) {
      this.pausedSince = performance.now();
      this.splitter.pause();
      this.socket.pause();
    }
  }

  resumeReading(reason: string): void {
    if (!this.pauseReasons.delete(reason) || this.pauseReasons.size > 0 || this.closeReason !== null) return;
    this.endPause();
    // Held lines go first; a handler may pause again (or close) while they are delivered.
    this.splitter.resume();
    if (this.pauseReasons.size === 0 && this.closeReason === null && this.handlers !== null) this.socket.resume();
  }

  /**
   * Idempotent. Half-closes so queued replies flush, then destroys after closeGraceMs. A client
   * that stopped reading is destroyed at once: its queued output would never flush.
   */
  close(reason: CloseReason, detail?: string): void {
    if (this.closeReason !== null) return;
    this.closeReason = reason;
    this.closeDetail = detail;
    this.splitter.stop();
    this.pauseReasons.clear();
    clearTimeout(this.throttleTimer);
    this.endPause();
    if (reason === 'BRIDGE_ERR_OUTPUT_OVERFLOW' || this.socket.destroyed) {
      this.socket.destroy();
      return;
    }
    this.socket.end();
    // Keep reading (into the stopped splitter) so the client's FIN is seen and close is prompt.
    if (this.handlers !== null) this.socket.resume();
    this.destroyTimer = setTimeout(() => this.socket.destroy(), this.closeGraceMs);
    this.destroyTimer.unref();
  }

  /** Resolves true once queued output reached the kernel, false on timeout or close. */
  flush(timeoutMs: number): Promise<boolean> {
    const socket = this.socket;
    if (socket.writableLength === 0) return Promise.resolve(true);
    if (socket.destroyed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        socket.off('close', onClose);
        socket.off('finish', onFinish);
        resolve(ok);
      };
      const onClose = () => finish(socket.writableLength === 0);
      const onFinish = () => finish(true);
      const timer = setTimeout(() => finish(false), timeoutMs);
      socket.once('close', onClose);
      if (socket.writableEnded) {
        socket.once('finish', onFinish);
      } else {
        // Write callbacks run in order: this one fires when everything before it was written.
        socket.write(Buffer.alloc(0), (error) => finish(!error));
      }
    });
  }

  private endPause(): void {
    if (this.pausedSince === 0) return;
    this.pausedTotalMs += performance.now() - this.pausedSince;
    this.pausedSince = 0;
  }

  private received(chunk: Buffer): void {
    this.splitter.push(chunk);
    if (this.byteBucket !== undefined) this.throttle('bytes', this.byteBucket.take(chunk.length));
  }

  /**
   * Pauses reading for `waitMs` (issue 13: per-connection byte and message rates). A pause
   * already running is not extended: when it ends, the next chunk or line pays what is still owed.
   */
  private throttle(kind: ThrottleKind, waitMs: number): void {
    if (waitMs <= 0 || this.throttleTimer !== undefined || this.closeReason !== null) return;
    this.onThrottled?.(kind);
    this.pauseReading('rate');
    this.throttleTimer = setTimeout(() => {
      this.throttleTimer = undefined;
      this.resumeReading('rate');
    }, waitMs);
  }

  private deliver(line: string, prescanned: boolean): void {
    const frame = splitFrame(line);
    this.deliverParsed(parseJsonLine(frame.json, this.json, prescanned), frame.raw);
  }

  private deliverParsed(parsed: JsonLineResult, raw: string): void {
    if (this.messageBucket !== undefined) this.throttle('messages', this.messageBucket.take(1));
    const handlers = this.handlers!;
    try {
      if (parsed.ok) handlers.onPacket(parsed.value, raw);
      else handlers.onBadLine(parsed.code, parsed.reason, parsed.params);
    } catch (error) {
      this.close('handler-error', reasonOf(error));
    }
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.destroyTimer);
    clearTimeout(this.throttleTimer);
    this.splitter.stop();
    const reason = this.closeReason ?? 'client-closed';
    this.closeReason = reason;
    this.observer?.closed(this);
    try {
      this.handlers?.onClose(reason, this.closeDetail);
    } catch (error) {
      // Thrown from a socket event: surfacing it as a warning beats crashing every connection.
      process.emitWarning(`connection ${this.id}: onClose handler threw: ${reasonOf(error)}`);
    }
  }
}
