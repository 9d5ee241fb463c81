import { connect, type Socket } from 'node:net';
import { LineReader } from '../protocol/line-reader.js';
import { ECHO_COMMAND, ECHO_REPLY_PREFIX, ScriptWire, type BenchIdentity, type BenchWire } from '../protocol/wire.js';
import { ScriptWireV33, readV33Line } from '../protocol/wire-v33.js';
import type { SampleBuffer } from './samples.js';

/** What one generator process counts over all its connections. */
export interface LoadCounts {
  sent: number;
  /** Requests whose send (or intended send, open loop) time is inside the measurement window. */
  sentInWindow: number;
  /** Replies received inside the measurement window (the throughput numerator). */
  repliesInWindow: number;
  /** Requests unanswered after the timeout (their slot is given back in closed-loop mode). */
  timeouts: number;
  /** Replies that came after their request had timed out. */
  late: number;
  /** A second reply to a request already answered. */
  duplicates: number;
  /** A reply that arrived after the reply to a later message of the same room. */
  orderViolations: number;
  /** A reply whose token is not one of this connection's requests. */
  unknownReplies: number;
  pingsReceived: number;
  pingsAnswered: number;
  closedByServer: number;
  socketErrors: number;
}

export function emptyCounts(): LoadCounts {
  return {
    sent: 0, sentInWindow: 0, repliesInWindow: 0, timeouts: 0, late: 0, duplicates: 0, orderViolations: 0, unknownReplies: 0,
    pingsReceived: 0, pingsAnswered: 0, closedByServer: 0, socketErrors: 0,
  };
}

/** Shared by a process's connections; `start`/`end` are performance.now() times. */
export interface LoadSink {
  readonly counts: LoadCounts;
  readonly latencies: SampleBuffer;
  readonly window: { start: number; end: number };
}

export type HandshakeOutcome = { readonly ok: true; readonly approved: boolean } | { readonly ok: false; readonly reason: string };

/**
 * One fake bridge script (PROTOCOL.md §2–§4): writes its handshake at once (the script does not
 * wait), sends signed `analyze` packets whose text carries a token `<tag>.<seq>`, answers every
 * server ping, and matches each `에코: <token>` reply to its request. One connection is one
 * phone with one room, so per-connection reply order is the room order botbridge guarantees.
 */
export class BenchConnection {
  readonly socket: Socket;
  readonly handshake: Promise<HandshakeOutcome>;
  /** Called after each matched reply or timeout: a closed-loop driver sends the next request. */
  onSlotFree: (conn: BenchConnection) => void = () => {};
  /** Called for each server ping with its receive time (performance.now()). */
  onPing: ((conn: BenchConnection, receivedAt: number, serverTimestamp: number) => void) | undefined;
  answerPings = true;
  private readonly wire: BenchWire;
  private readonly v33: boolean;
  private readonly textPrefix: string;
  private readonly replyPrefix: string;
  private readonly outstanding = new Map<number, number>();
  private readonly expired = new Set<number>();
  private readonly reader: LineReader;
  private nextSeq = 0;
  private highestAnswered = -1;
  private settleHandshake: (outcome: HandshakeOutcome) => void = () => {};
  private handshaken = false;
  private closingByUs = false;

  constructor(
    port: number,
    identity: BenchIdentity,
    tag: string,
    private readonly sink: LoadSink,
  ) {
    this.v33 = identity.protocol === '3.3';
    this.wire = this.v33 ? new ScriptWireV33(identity) : new ScriptWire(identity);
    this.textPrefix = `${ECHO_COMMAND}${tag}.`;
    this.replyPrefix = `${ECHO_REPLY_PREFIX}${tag}.`;
    this.handshake = new Promise((resolve) => (this.settleHandshake = resolve));
    this.reader = new LineReader((line) => this.onLine(line));
    const socket = connect({ port, host: '127.0.0.1' });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.reader.push(chunk));
    socket.on('error', () => {
      sink.counts.socketErrors += 1;
    });
    socket.on('close', () => {
      this.reader.stop();
      if (!this.closingByUs) sink.counts.closedByServer += 1;
      this.settleHandshake({ ok: false, reason: 'closed before the handshake completed' });
    });
    socket.write(this.wire.handshake());
  }

  get inFlight(): number {
    return this.outstanding.size;
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  /** Sends one `# echo` request; latency is measured from `originAt` (performance.now()). */
  send(originAt: number): void {
    const seq = this.nextSeq++;
    this.outstanding.set(seq, originAt);
    this.socket.write(this.wire.analyze(this.textPrefix + seq, seq + 1, Date.now()));
    this.sink.counts.sent += 1;
    if (originAt >= this.sink.window.start && originAt < this.sink.window.end) this.sink.counts.sentInWindow += 1;
  }

  /** Expires requests older than `timeoutMs`; each frees its slot. */
  sweep(now: number, timeoutMs: number): void {
    for (const [seq, sentAt] of this.outstanding) {
      // Insertion order is send order, and origins only grow: the first young one ends the scan.
      if (now - sentAt <= timeoutMs) return;
      this.outstanding.delete(seq);
      this.expired.add(seq);
      this.sink.counts.timeouts += 1;
      this.onSlotFree(this);
    }
  }

  /** Ends the connection (FIN) and resolves once the socket is closed. */
  close(): Promise<void> {
    this.closingByUs = true;
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), 5_000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  private onLine(line: string): void {
    const at = performance.now();
    const packet = this.v33 ? readV33Line(line) : readV32Line(line);
    if (packet === undefined) {
      this.sink.counts.unknownReplies += 1;
      return;
    }
    const data = packet.data;
    switch (packet.event) {
      case 'messageResponse':
        return this.onReply(packet.text, at);
      case 'ping':
        return this.onServerPing(data.server_timestamp, at);
      case 'handshakeComplete':
        if (!this.handshaken) {
          this.handshaken = true;
          this.settleHandshake(data.success === true ? { ok: true, approved: data.approved === true } : { ok: false, reason: String(data.message) });
        }
        return;
      default:
        this.sink.counts.unknownReplies += 1;
    }
  }

  private onReply(text: unknown, at: number): void {
    const counts = this.sink.counts;
    if (typeof text !== 'string' || !text.startsWith(this.replyPrefix)) {
      counts.unknownReplies += 1;
      return;
    }
    const seq = Number(text.slice(this.replyPrefix.length));
    const sentAt = this.outstanding.get(seq);
    if (sentAt === undefined) {
      if (this.expired.delete(seq)) counts.late += 1;
      else if (Number.isInteger(seq) && seq >= 0 && seq < this.nextSeq) counts.duplicates += 1;
      else counts.unknownReplies += 1;
      return;
    }
    this.outstanding.delete(seq);
    if (seq < this.highestAnswered) counts.orderViolations += 1;
    else this.highestAnswered = seq;
    const { window, latencies } = this.sink;
    if (at >= window.start && at < window.end) counts.repliesInWindow += 1;
    if (sentAt >= window.start && sentAt < window.end) latencies.push(at - sentAt);
    this.onSlotFree(this);
  }

  private onServerPing(serverTimestamp: unknown, at: number): void {
    this.sink.counts.pingsReceived += 1;
    if (typeof serverTimestamp !== 'number') return;
    this.onPing?.(this, at, serverTimestamp);
    if (!this.answerPings || !this.isOpen) return;
    this.socket.write(this.wire.pingAnswer(serverTimestamp, Date.now()));
    this.sink.counts.pingsAnswered += 1;
  }
}

function readV32Line(line: string): { event: unknown; data: Record<string, unknown>; text: unknown } | undefined {
  let packet: { event?: unknown; data?: Record<string, unknown> };
  try {
    packet = JSON.parse(line) as typeof packet;
  } catch {
    return undefined;
  }
  const data = packet.data ?? {};
  return { event: packet.event, data, text: data.text };
}
