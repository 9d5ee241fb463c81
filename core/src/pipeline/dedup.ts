import { createHash } from 'node:crypto';
import { Fifo } from './fifo.js';

export interface DeduplicatorOptions {
  /** A message id seen again within this many ms is a duplicate (pipeline.dedupWindowMs). */
  readonly windowMs: number;
  /** A logId-less twin within this many ms of its logId twin is dropped (pipeline.legacyTwinWindowMs). */
  readonly legacyTwinWindowMs: number;
  /** Cap on remembered entries (message ids plus twin arrivals); the oldest go first. */
  readonly maxEntries: number;
  /** Monotonic milliseconds; injectable for tests. */
  readonly now?: () => number;
}

export interface DedupInput {
  readonly botName: string;
  readonly channelId: string | null;
  readonly logId: string | null;
  readonly room: string;
  readonly sender: string;
  readonly text: string;
}

/**
 * - `new`: process it.
 * - `duplicate`: its `(botName, channelId, logId)` was seen within the window (a resend or a replay).
 * - `legacy-twin`: the other half of a logId/legacy pair already went through (PROTOCOL.md §3):
 *   whichever of the two arrives second gets this verdict, so the chat line is processed once.
 */
export type DedupVerdict = 'new' | 'duplicate' | 'legacy-twin';

type TwinKind = 'logId' | 'legacy';

/**
 * Arrivals of one fingerprint that are waiting for a twin. Pairing takes the oldest waiting
 * arrival, and expiry also goes oldest first, so the waiting ones are always the arrivals with
 * index `consumed .. arrived-1`: two counters describe them exactly. Only one kind can be
 * waiting at a time (an arrival of the other kind would have paired with it).
 */
interface TwinRun {
  readonly kind: TwinKind;
  arrived: number;
  consumed: number;
}

interface IdEntry {
  readonly key: string;
  readonly at: number;
}

interface TwinEntry {
  readonly fingerprint: string;
  readonly run: TwinRun;
  readonly index: number;
  readonly at: number;
}

// Cannot occur in a chat line: the client strips control characters (PROTOCOL.md §3).
const SEP = '\u0000';
// Texts run to 65,000 characters; beyond this a twin key keeps a digest, not the text.
const MAX_PLAIN_TEXT = 256;

/**
 * Drops repeated chat lines before they reach the queue (PROTOCOL.md §7 "Message ids and
 * dedup"). Memory is bounded without timers: entries are appended in time order and expired
 * or evicted from the front of two FIFOs, O(1) amortised per check.
 */
export class Deduplicator {
  private readonly windowMs: number;
  private readonly twinWindowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly ids = new Map<string, number>();
  private readonly idOrder = new Fifo<IdEntry>();
  private readonly twins = new Map<string, TwinRun>();
  private readonly twinOrder = new Fifo<TwinEntry>();

  constructor(options: DeduplicatorOptions) {
    this.windowMs = options.windowMs;
    this.twinWindowMs = options.legacyTwinWindowMs;
    this.maxEntries = Math.max(1, options.maxEntries);
    this.now = options.now ?? (() => performance.now());
  }

  check(msg: DedupInput): DedupVerdict {
    const now = this.now();
    this.expire(now);
    const fingerprint = twinFingerprint(msg);
    let paired: boolean;
    if (msg.logId !== null && msg.logId !== '') {
      const key = msg.botName + SEP + (msg.channelId ?? '') + SEP + msg.logId;
      // A duplicate leaves the twin counts alone: a resent line must not eat a legacy twin's pair.
      if (this.ids.has(key)) return 'duplicate';
      this.ids.set(key, now);
      this.idOrder.push({ key, at: now });
      paired = this.arrive(fingerprint, 'logId', now);
    } else {
      paired = this.arrive(fingerprint, 'legacy', now);
    }
    this.enforceCap();
    return paired ? 'legacy-twin' : 'new';
  }

  /**
   * Remembers a message id admitted `ageMs` ago, as if it had been checked then: the journal's
   * keys at start (dedup across restarts). Call oldest first, before the first check, so the
   * FIFO stays in time order. Twin arrivals are not restored: their window is seconds.
   */
  remember(botName: string, channelId: string | null, logId: string, ageMs: number): void {
    const key = botName + SEP + (channelId ?? '') + SEP + logId;
    if (this.ids.has(key)) return;
    const at = this.now() - Math.max(0, ageMs);
    this.ids.set(key, at);
    this.idOrder.push({ key, at });
    this.enforceCap();
  }

  /** Entries currently remembered (message ids plus twin arrivals, paired or not). */
  size(): number {
    return this.idOrder.length + this.twinOrder.length;
  }

  private arrive(fingerprint: string, kind: TwinKind, now: number): boolean {
    let run = this.twins.get(fingerprint);
    if (run !== undefined && run.kind !== kind) {
      run.consumed += 1;
      if (run.consumed === run.arrived) this.twins.delete(fingerprint);
      return true;
    }
    if (run === undefined) {
      run = { kind, arrived: 0, consumed: 0 };
      this.twins.set(fingerprint, run);
    }
    this.twinOrder.push({ fingerprint, run, index: run.arrived, at: now });
    run.arrived += 1;
    return false;
  }

  private expire(now: number): void {
    for (let e = this.idOrder.peek(); e !== undefined && now - e.at >= this.windowMs; e = this.idOrder.peek()) {
      this.dropOldestId();
    }
    for (let e = this.twinOrder.peek(); e !== undefined && now - e.at >= this.twinWindowMs; e = this.twinOrder.peek()) {
      this.dropOldestTwin();
    }
  }

  private enforceCap(): void {
    while (this.size() > this.maxEntries) {
      const id = this.idOrder.peek();
      const twin = this.twinOrder.peek();
      if (twin === undefined || (id !== undefined && id.at < twin.at)) this.dropOldestId();
      else this.dropOldestTwin();
    }
  }

  private dropOldestId(): void {
    const entry = this.idOrder.shift();
    if (entry !== undefined) this.ids.delete(entry.key);
  }

  private dropOldestTwin(): void {
    const entry = this.twinOrder.shift();
    if (entry === undefined) return;
    const { run } = entry;
    // Already paired (index below consumed): nothing waits on this arrival any more.
    if (entry.index < run.consumed) return;
    run.consumed = entry.index + 1;
    if (run.consumed === run.arrived && this.twins.get(entry.fingerprint) === run) {
      this.twins.delete(entry.fingerprint);
    }
  }
}

function twinFingerprint(msg: DedupInput): string {
  const text =
    msg.text.length > MAX_PLAIN_TEXT ? SEP + createHash('sha256').update(msg.text).digest('base64') : msg.text;
  return msg.botName + SEP + msg.room + SEP + msg.sender + SEP + text;
}
