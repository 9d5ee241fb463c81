import { Fifo } from './fifo.js';
import { HashWindow } from './hash-window.js';
import { KeyHasher } from './key-hash.js';

export interface DeduplicatorOptions {
  /** A message id seen again within this many ms is a duplicate (pipeline.dedupWindowMs). */
  readonly windowMs: number;
  /** A logId-less twin within this many ms of its logId twin is dropped (pipeline.legacyTwinWindowMs). */
  readonly legacyTwinWindowMs: number;
  /** Cap on remembered entries (message ids plus twin arrivals); the oldest go first (pipeline.dedupMaxEntries). */
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

interface TwinEntry {
  readonly fingerprint: number;
  readonly run: TwinRun;
  readonly index: number;
  readonly at: number;
}

/** How often remembered entries are expired while no message arrives (so memory follows the window when idle too). */
const IDLE_SWEEP_MS = 1_000;

/**
 * Drops repeated chat lines before they reach the queue (PROTOCOL.md §7 "Message ids and
 * dedup"). Entries are appended in time order and expired or evicted from the front, O(1)
 * amortised per check. Keys are kept as 64-bit hashes (KeyHasher), never as strings: message
 * ids in typed arrays (HashWindow, about 24 bytes each), twin fingerprints as 53-bit numbers.
 * A message's strings are therefore not retained by dedup, and `maxEntries` ids cost a few MiB
 * (docs/architecture.md, "Memory"). While entries are held, an unref'd timer expires them
 * when no message arrives, so the arrays shrink after a burst rather than at the next message.
 */
export class Deduplicator {
  private readonly windowMs: number;
  private readonly twinWindowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly hasher = new KeyHasher();
  private readonly ids: HashWindow;
  private readonly twins = new Map<number, TwinRun>();
  private readonly twinOrder = new Fifo<TwinEntry>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: DeduplicatorOptions) {
    this.windowMs = options.windowMs;
    this.twinWindowMs = options.legacyTwinWindowMs;
    this.maxEntries = Math.max(1, options.maxEntries);
    this.now = options.now ?? (() => performance.now());
    this.ids = new HashWindow(this.maxEntries);
  }

  check(msg: DedupInput): DedupVerdict {
    const now = this.now();
    this.expire(now);
    const fingerprint = this.twinFingerprint(msg);
    let paired: boolean;
    if (msg.logId !== null && msg.logId !== '') {
      this.hasher.hash(msg.botName, msg.channelId ?? '', msg.logId);
      const { hi, lo } = this.hasher;
      // A duplicate leaves the twin counts alone: a resent line must not eat a legacy twin's pair.
      if (this.ids.has(hi, lo)) return 'duplicate';
      this.ids.push(hi, lo, now);
      paired = this.arrive(fingerprint, 'logId', now);
    } else {
      paired = this.arrive(fingerprint, 'legacy', now);
    }
    this.enforceCap();
    this.armSweep();
    return paired ? 'legacy-twin' : 'new';
  }

  /**
   * Remembers a message id admitted `ageMs` ago, as if it had been checked then: the journal's
   * keys at start (dedup across restarts). Call oldest first, before the first check, so the
   * FIFO stays in time order. Twin arrivals are not restored: their window is seconds.
   */
  remember(botName: string, channelId: string | null, logId: string, ageMs: number): void {
    this.hasher.hash(botName, channelId ?? '', logId);
    const { hi, lo } = this.hasher;
    if (this.ids.has(hi, lo)) return;
    this.ids.push(hi, lo, this.now() - Math.max(0, ageMs));
    this.enforceCap();
    this.armSweep();
  }

  /** Entries currently remembered (message ids plus twin arrivals, paired or not). */
  size(): number {
    return this.ids.length + this.twinOrder.length;
  }

  /** What the memory holds: ids and twin arrivals remembered, id slots allocated (about 24 bytes each). */
  memory(): { ids: number; twins: number; idSlots: number } {
    return { ids: this.ids.length, twins: this.twinOrder.length, idSlots: this.ids.allocated };
  }

  /** Stops the idle sweep (the bridge's close); entries stay until the next check. */
  stop(): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private armSweep(): void {
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.expire(this.now());
      if (this.size() > 0) this.armSweep();
    }, IDLE_SWEEP_MS);
    this.sweepTimer.unref();
  }

  private arrive(fingerprint: number, kind: TwinKind, now: number): boolean {
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
    for (let at = this.ids.oldestAt(); at !== undefined && now - at >= this.windowMs; at = this.ids.oldestAt()) {
      this.ids.shift();
    }
    for (let e = this.twinOrder.peek(); e !== undefined && now - e.at >= this.twinWindowMs; e = this.twinOrder.peek()) {
      this.dropOldestTwin();
    }
  }

  private enforceCap(): void {
    while (this.size() > this.maxEntries) {
      const idAt = this.ids.oldestAt();
      const twin = this.twinOrder.peek();
      if (twin === undefined || (idAt !== undefined && idAt < twin.at)) this.ids.shift();
      else this.dropOldestTwin();
    }
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

  /**
   * The chat line's identity without its ids (bot, room, sender, text) as a 53-bit number: a
   * Map key that holds no string, whatever the text's length.
   */
  private twinFingerprint(msg: DedupInput): number {
    this.hasher.hash(msg.botName, msg.room, msg.sender, msg.text);
    return (this.hasher.hi & 0x1f_ffff) * 0x1_0000_0000 + this.hasher.lo;
  }
}
