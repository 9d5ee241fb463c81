import type { ChatMessage } from '@botbridge/sdk';
import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { EventBus } from '../events/bridge-events.js';
import type { Deduplicator } from '../pipeline/dedup.js';
import type { JournalEntry, JournalKey, Store } from '../store/types.js';

export interface JournalOptions {
  readonly store: () => Store;
  /** Admissions and done marks within this many ms go in one transaction (journal.commitIntervalMs). */
  readonly commitIntervalMs: number;
  /** Entries waiting for a commit beyond this are dropped, oldest first (journal.bufferLimit). */
  readonly bufferLimit: number;
  /** Rows older than this are deleted (max of pipeline.dedupWindowMs and journal.replayMaxAgeMs). */
  readonly retentionMs: number;
  readonly pruneIntervalMs: number;
  readonly pruneBatchSize: number;
  readonly events: EventBus;
  readonly log: CoreLogger;
  /** The node whose rows these are (cluster.nodeId; 'local' for a single-process bridge). */
  readonly nodeId?: string;
  /**
   * Cluster mode: told at once of every done message (its row may already be committed as
   * 'admitted', its done mark waiting for the next commit; or it is still buffered), so the
   * other nodes hear of it within the turn instead of after the commit, and forget its
   * admission notice (cluster/done-notices.ts). Absent on a single node.
   */
  readonly notifyDone?: (key: JournalKey) => void;
  /**
   * Cluster mode: told at once of each buffered admission, so the other nodes hold it until
   * its done notice and can restore it into SQL if this node dies before the commit
   * (cluster/admitted-memory.ts). Absent on a single node.
   */
  readonly notifyAdmitted?: (entry: JournalEntry) => void;
}

/** A buffered entry: its done time is set in place while its row is not written yet (see markDone). */
type Buffered = { -readonly [K in keyof JournalEntry]: JournalEntry[K] };

const SEP = '\u0000';
const keyString = (k: JournalKey) => k.botName + SEP + k.channelId + SEP + k.logId;
/** A failed commit is tried again after this long (its entries stay buffered, in order). */
const RETRY_MS = 1_000;
/**
 * A commit chosen as a deadlock victim (MySQL 1213: several nodes committing into one journal)
 * is tried again at the next commit interval, this many times in a row, before RETRY_MS: the
 * conflict is over once the other transaction ends, and each second of waiting keeps done marks
 * buffered that a SIGKILL would turn into messages answered twice by an adopter.
 */
const QUICK_DEADLOCK_RETRIES = 3;
/** Prune deletes at most this many batches per run, so one run never holds the store long. */
const PRUNE_MAX_BATCHES = 100;

/**
 * The journal of admitted messages (docs/architecture.md, "Journal"). `record` and `markDone`
 * are synchronous and only buffer: admission never waits for the store. A timer started by the
 * first buffered item commits everything buffered `commitIntervalMs` later in one transaction
 * (group commit); commits run one at a time, so a done mark is always written after its row.
 * A message that is done before its row was written is written as done in the same row.
 *
 * What a SIGKILL loses is exactly what is buffered or being committed: at most
 * `commitIntervalMs` plus one commit's duration of admissions (and of done marks, whose
 * messages are then replayed at the next start: answered twice; in cluster mode an adopter
 * skips them, told by the done notices sent at markDone). In cluster mode the buffered
 * admissions are not lost with the process: each went to the peers as an admission notice at
 * `record`, and the node adopting this one's rows restores the unanswered ones first.
 */
export class Journal {
  private buffer: Buffered[] = [];
  /**
   * Buffered entries not yet done, by identity: the key `record` returns is its entry, and the
   * done mark of a live message comes back with that same object (no key string per message).
   * Always a subset of `buffer`.
   */
  private unwritten = new Set<JournalKey>();
  private done: JournalKey[] = [];
  private readonly kept = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pruneTimer: ReturnType<typeof setInterval> | undefined;
  private committing: Promise<void> | undefined;
  private closed = false;
  private droppedSinceLog = 0;
  private deadlocksInARow = 0;
  private readonly notifyDone: ((key: JournalKey) => void) | undefined;
  private readonly notifyAdmitted: ((entry: JournalEntry) => void) | undefined;

  constructor(private readonly options: JournalOptions) {
    this.notifyDone = options.notifyDone;
    this.notifyAdmitted = options.notifyAdmitted;
  }

  /** Buffers an admitted message; null for a line without logId (no identity: not journaled). */
  record(message: ChatMessage, roomKey: string): JournalKey | null {
    if (this.closed || message.logId === null || message.logId === '') return null;
    const entry: Buffered = {
      botName: message.botName,
      channelId: message.channelId ?? '',
      logId: message.logId,
      deviceId: message.deviceId,
      roomKey,
      room: message.room,
      sender: message.sender,
      text: message.text,
      userHash: message.userHash,
      isGroupChat: message.isGroupChat,
      isMention: message.isMention,
      clientTimestamp: message.clientTimestamp,
      traceId: message.traceId,
      admittedAt: new Date(message.receivedAt),
      doneAt: null,
    };
    this.buffer.push(entry);
    this.unwritten.add(entry);
    // Before the commit only the peers know it (a SIGKILL before then: a survivor restores it).
    this.notifyAdmitted?.(entry);
    this.enforceLimit();
    this.schedule();
    return entry;
  }

  /**
   * The message's replies were handed to the socket (or it ended without any). The one place
   * "done" is decided is the caller's: today the reply sequencer's ticket settling.
   */
  markDone(key: JournalKey): void {
    if (this.kept.size > 0 && this.kept.delete(keyString(key))) return;
    if (this.unwritten.delete(key)) {
      // Not handed to the store yet (commit takes entries out of `unwritten` first): set in
      // place, so its row is written as done and no node can ever replay it; the peers, which
      // hold its admission notice until then, hear it answered (cluster mode).
      (key as Buffered).doneAt = new Date();
      this.notifyDone?.(key);
      return;
    }
    // Its row may be committed as 'admitted' (or be in the commit running now): until the
    // done mark below is committed, an adopter would replay it; the notice tells it not to.
    this.notifyDone?.(key);
    if (this.closed) return;
    this.done.push({ botName: key.botName, channelId: key.channelId, logId: key.logId });
    this.schedule();
  }

  /**
   * Cluster failover: an adopted row whose message its dead owner had answered (a done notice,
   * cluster/done-notices.ts). Marked done at the next commit instead of being replayed; no
   * notice of its own (every node heard the owner's).
   */
  markAnsweredElsewhere(key: JournalKey): void {
    if (this.closed) return;
    this.done.push({ botName: key.botName, channelId: key.channelId, logId: key.logId });
    this.schedule();
  }

  /** Shutdown: this message did not finish; its row stays 'admitted' for the next start's replay. */
  keep(key: JournalKey): void {
    this.kept.add(keyString(key));
  }

  /** Loads the keys of rows admitted within `windowMs` into the deduplicator (at start). */
  async seedDedup(dedup: Deduplicator, windowMs: number, limit: number): Promise<number> {
    const now = Date.now();
    const keys = await this.options.store().journalKeysSince(new Date(now - windowMs), limit);
    for (const k of keys) dedup.remember(k.botName, k.channelId, k.logId, now - k.admittedAt.getTime());
    return keys.length;
  }

  /**
   * Cluster mode, at a device's handshake: its keys of the window (from every node's rows,
   * answered or not) join the deduplicator, so a line it resends after moving here from
   * another node is not processed again. Per device, never a scan of the whole window.
   */
  async seedDeviceDedup(dedup: Deduplicator, botName: string, deviceId: string, windowMs: number, limit: number): Promise<number> {
    const keys = await this.options.store().journalKeysOfDevice(botName, deviceId, new Date(Date.now() - windowMs), limit);
    // Age 0: the deduplicator's memory is appended in time order; a key remembered as of now
    // stays at most one window longer than it had to, which costs nothing but its slot.
    for (const k of keys) dedup.remember(k.botName, k.channelId, k.logId, 0);
    return keys.length;
  }

  startPruning(): void {
    this.pruneTimer ??= setInterval(() => void this.prune(), this.options.pruneIntervalMs);
    this.pruneTimer.unref();
  }

  /** Deletes rows past retention in bounded batches; returns how many. */
  async prune(): Promise<number> {
    const before = new Date(Date.now() - this.options.retentionMs);
    let total = 0;
    try {
      for (let i = 0; i < PRUNE_MAX_BATCHES && !this.closed; i += 1) {
        const n = await this.options.store().pruneJournal(before, this.options.pruneBatchSize);
        total += n;
        if (n < this.options.pruneBatchSize) break;
      }
    } catch (error) {
      this.options.log.warn({ err: reasonOf(error) }, 'journal prune failed; next run tries again');
    }
    return total;
  }

  /** Entries and done marks not yet committed. */
  pending(): number {
    return this.buffer.length + this.done.length;
  }

  /** Commits everything buffered now (and waits for a commit in flight). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.committing !== undefined) await this.committing;
    if (this.pending() > 0) await this.commit();
  }

  /** Final flush; later records are not journaled (they could not be marked done anyway). */
  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.flush().catch((error: unknown) => {
      this.options.events.publish('journal:dropped', { reason: 'close', entries: this.pending() });
      this.options.log.error({ err: reasonOf(error), entries: this.pending() }, 'journal: last commit failed at close');
    });
    this.closed = true;
  }

  private schedule(delayMs = this.options.commitIntervalMs): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.commitInOrder();
    }, delayMs);
  }

  private async commitInOrder(): Promise<void> {
    while (this.committing !== undefined) await this.committing;
    if (this.pending() === 0) return;
    await this.commit().catch(() => undefined);
  }

  private commit(): Promise<void> {
    const items = this.buffer;
    const done = this.done;
    this.buffer = [];
    this.done = [];
    // From here a done mark of these rows is an UPDATE in a later commit (commits are serial).
    // Every unwritten entry is in the buffer just taken.
    this.unwritten.clear();
    const admitted: readonly JournalEntry[] = items;
    const nodeId = this.options.nodeId;
    const run = this.options.store().writeJournal({ admitted, done, at: new Date(), ...(nodeId === undefined ? {} : { nodeId }) }).then(
      () => {
        this.deadlocksInARow = 0;
        this.options.events.publish('journal:commit', { admitted: admitted.length, done: done.length });
        if (this.droppedSinceLog > 0) {
          this.options.log.warn({ dropped: this.droppedSinceLog }, 'journal commits again; entries were dropped meanwhile');
          this.droppedSinceLog = 0;
        }
      },
      (error: unknown) => {
        // Kept in order in front of what came since, and tried again: rows still precede their done marks.
        this.buffer = [...items, ...this.buffer];
        for (const item of items) if (item.doneAt === null) this.unwritten.add(item);
        this.done = [...done, ...this.done];
        this.options.events.publish('journal:error', { reason: reasonOf(error) });
        this.options.log.warn({ err: reasonOf(error), entries: this.pending() }, 'journal commit failed; retrying');
        this.enforceLimit();
        const quick = isDeadlock(error) && this.deadlocksInARow < QUICK_DEADLOCK_RETRIES;
        this.deadlocksInARow = quick ? this.deadlocksInARow + 1 : 0;
        if (!this.closed) this.schedule(quick ? this.options.commitIntervalMs : RETRY_MS);
        throw error;
      },
    );
    const settled: Promise<void> = run.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      if (this.committing === settled) this.committing = undefined;
    });
    this.committing = settled;
    return run;
  }

  private enforceLimit(): void {
    const over = this.pending() - this.options.bufferLimit;
    if (over <= 0) return;
    // The store is down, not slow: the oldest entries go (they lose replay and restart dedup only).
    const fromDone = Math.min(over, this.done.length);
    this.done.splice(0, fromDone);
    const fromBuffer = over - fromDone;
    for (const item of this.buffer.splice(0, fromBuffer)) this.unwritten.delete(item);
    this.options.events.publish('journal:dropped', { reason: 'buffer_full', entries: over });
    if (this.droppedSinceLog === 0) {
      this.options.log.error({ dropped: over, bufferLimit: this.options.bufferLimit }, 'journal buffer full (store down?): oldest entries dropped');
    }
    this.droppedSinceLog += over;
  }
}

/** MySQL/MariaDB chose this transaction as a deadlock victim (ER_LOCK_DEADLOCK): retrying it at once is right. */
function isDeadlock(error: unknown): boolean {
  const e = error as { errno?: unknown; code?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.errno === 1213 || e.code === 'ER_LOCK_DEADLOCK');
}
