import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { EventBus } from '../events/bridge-events.js';
import { DropLog } from './drop-log.js';

export interface BatchWriterOptions<T> {
  /** Counter label, e.g. `chat_log`. */
  readonly name: string;
  readonly write: (rows: T[]) => Promise<void>;
  /** Rows per batch at most; a batch takes whatever is buffered up to this (group commit). */
  readonly batchSize: number;
  /**
   * Rows buffered at which the writer asks for backpressure (`onSaturated`) while the store
   * answers: the store is behind, so reading from phones pauses until it catches up.
   */
  readonly limit: number;
  /**
   * The same bound in bytes, for rows whose size varies (a chat line runs to 65,000 characters):
   * backpressure also starts at `limitBytes` buffered, and the spill bound scales by the same
   * ratio (`limitBytes × (limit + spillLimit) / limit`). Needs `sizeOf`; unbounded without it.
   */
  readonly limitBytes?: number;
  /** Approximate bytes a buffered row holds (its strings at 2 bytes a character, plus overhead). */
  readonly sizeOf?: (row: T) => number;
  /** Backpressure ends once the buffer is below this. Default: half of `limit`. */
  readonly resumeBelow?: number;
  /**
   * Rows kept beyond `limit` (no backpressure) while the store is down, retried with backoff.
   * Beyond `limit + spillLimit` rows are dropped, counted and logged.
   */
  readonly spillLimit: number;
  /**
   * Rows are written at most this long after they arrive (plus the write in flight), and
   * batches that are not full start at least this long apart: a group commit, so a steady
   * stream of rows costs one transaction per interval, not one per store round trip.
   */
  readonly flushDelayMs: number;
  /** Delay before retrying a failed write (doubles up to 30 s). */
  readonly retryDelayMs: number;
  /** Where drops, written rows and errors are published (and counted, as facts). */
  readonly events: EventBus;
  readonly log: CoreLogger;
  /** At most one drop line per this interval (the count since the last line). Default 10 s. */
  readonly dropLogIntervalMs?: number;
  /**
   * Whether the store is down as the rest of the bridge sees it (store health). A failed write
   * of this writer counts as down until a write succeeds.
   */
  readonly storeDown?: () => boolean;
  /** The buffer reached `limit` while the store answers: pause what produces rows. */
  readonly onSaturated?: () => void;
  /** The buffer drained below `resumeBelow`, or the store went down (rows spill instead). */
  readonly onUnsaturated?: () => void;
  /**
   * False for an error that retrying cannot fix (the store answered and refused the rows: data
   * too long for an old table's column, a missing column). Such a batch is written again row by
   * row and only the refused rows are dropped and counted. Default: every error is retried.
   */
  readonly isRetryable?: (error: unknown) => boolean;
}

/**
 * Buffers rows that must not slow the pipeline (chat log, ping results) and writes them in
 * batches, one batch in flight at a time (so rows reach the table in arrival order). Nothing is
 * dropped because the store is slow: a buffer at `limit` raises backpressure instead. Only while
 * the store is down do rows spill past `limit` (up to `spillLimit` more, retried with backoff);
 * what does not fit then is dropped, counted and logged (rate-limited, DropLog).
 */
export class BatchWriter<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | null = null;
  private failures = 0;
  private closed = false;
  private saturatedNow = false;
  private readonly drops: DropLog;
  private readonly capacity: number;
  private readonly resumeBelow: number;
  private bytes = 0;
  private readonly limitBytes: number;
  private readonly capacityBytes: number;
  private readonly sizeOf: (row: T) => number;

  constructor(private readonly options: BatchWriterOptions<T>) {
    this.capacity = options.limit + options.spillLimit;
    const sized = options.sizeOf !== undefined && options.limitBytes !== undefined;
    this.sizeOf = sized ? options.sizeOf! : () => 0;
    this.limitBytes = sized ? options.limitBytes! : Number.POSITIVE_INFINITY;
    this.capacityBytes = (this.limitBytes * this.capacity) / options.limit;
    this.resumeBelow = Math.max(1, options.resumeBelow ?? Math.floor(options.limit / 2));
    this.drops = new DropLog({ name: options.name, events: options.events, log: options.log, intervalMs: options.dropLogIntervalMs ?? 10_000 });
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Approximate bytes buffered (0 without `sizeOf`). */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Whether this writer currently asks for backpressure. */
  get saturated(): boolean {
    return this.saturatedNow;
  }

  /** Whether rows spill (the store is down): no backpressure, drops past the spill bound. */
  get storeDown(): boolean {
    return this.failures > 0 || this.options.storeDown?.() === true;
  }

  push(row: T): void {
    const size = this.sizeOf(row);
    // One row larger than the whole bound still goes in alone: it is refused only for lack of room.
    if (this.buffer.length >= this.capacity || (this.bytes + size > this.capacityBytes && this.buffer.length > 0)) {
      this.drops.dropped(1, this.storeDown ? 'store down and spill buffer full' : 'write buffer full');
      return;
    }
    this.buffer.push(row);
    this.bytes += size;
    if (this.atLimit()) this.updateSaturation();
    if (!this.timer && !this.writing && !this.closed) this.schedule(this.options.flushDelayMs);
  }

  /** The store answers again: retry now rather than at the end of the backoff. */
  retryNow(): void {
    if (this.closed || this.writing || this.buffer.length === 0) return;
    clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Re-evaluates backpressure (e.g. after the store's health changed). */
  updateSaturation(): void {
    if (!this.saturatedNow) {
      if (!this.closed && this.atLimit() && !this.storeDown) {
        this.saturatedNow = true;
        this.options.onSaturated?.();
      }
    } else if (this.closed || (this.buffer.length < this.resumeBelow && this.bytes < this.limitBytes / 2) || this.storeDown) {
      this.saturatedNow = false;
      this.options.onUnsaturated?.();
    }
  }

  /** Writes everything buffered now; resolves when the buffer is empty or a write failed. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing;
    while (this.buffer.length > 0) {
      if (!(await this.writeBatch())) return;
    }
  }

  /** Final flush; rows that still cannot be written are counted and logged as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.buffer.length > 0) {
      this.drops.dropped(this.buffer.length, 'store unavailable at close');
      this.buffer = [];
      this.bytes = 0;
    }
    this.drops.flush();
    this.updateSaturation();
  }

  private atLimit(): boolean {
    return this.buffer.length >= this.options.limit || this.bytes >= this.limitBytes;
  }

  private sizeOfAll(rows: readonly T[]): number {
    let total = 0;
    for (const row of rows) total += this.sizeOf(row);
    return total;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drainInBackground();
    }, delayMs);
    this.timer.unref();
  }

  private async drainInBackground(): Promise<void> {
    while (this.buffer.length > 0 && !this.closed && !this.writing) {
      const started = performance.now();
      if (!(await this.writeBatch())) {
        const delay = Math.min(30_000, this.options.retryDelayMs * 2 ** Math.min(this.failures - 1, 10));
        this.schedule(delay);
        return;
      }
      // What arrived during that write waits for the next interval unless it fills a batch: a
      // commit per round trip to the store cost ~2x the CPU per row of one per 50 ms
      // (SQLite, bench/analysis.md). Every row still waits at most flushDelayMs from its arrival.
      if (this.buffer.length > 0 && this.buffer.length < this.options.batchSize && !this.closed && this.timer === undefined) {
        this.schedule(Math.max(0, started + this.options.flushDelayMs - performance.now()));
        return;
      }
    }
  }

  private async writeBatch(): Promise<boolean> {
    const batch = this.buffer.splice(0, this.options.batchSize);
    this.bytes -= this.sizeOfAll(batch);
    let ok = true;
    this.writing = this.options.write(batch).then(
      () => {
        this.failures = 0;
        this.options.events.publish('store:rows-written', { table: this.options.name, rows: batch.length });
      },
      async (error: unknown) => {
        if (this.options.isRetryable?.(error) === false) {
          ok = await this.writeRowByRow(batch, error);
          return;
        }
        ok = false;
        this.failed(error, batch);
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = null;
      this.updateSaturation();
    }
    return ok;
  }

  /** The store did not take `rows`: they go back to the front, as far as the spill bound allows. */
  private failed(error: unknown, rows: T[]): void {
    this.failures += 1;
    this.options.events.publish('store:error', { operation: this.options.name });
    this.options.log.warn({ writer: this.options.name, rows: rows.length, buffered: this.buffer.length, err: reasonOf(error) }, 'batch write failed; will retry');
    const room = Math.max(0, this.capacity - this.buffer.length);
    this.drops.dropped(rows.length - Math.min(room, rows.length), 'store down and spill buffer full');
    const kept = room < rows.length ? rows.slice(0, room) : rows;
    this.bytes += this.sizeOfAll(kept);
    this.buffer.unshift(...kept);
  }

  /** A refused batch: one poisoned row must not cost its neighbours, nor block the rows behind it. */
  private async writeRowByRow(batch: T[], batchError: unknown): Promise<boolean> {
    for (let i = 0; i < batch.length; i += 1) {
      try {
        if (batch.length === 1) throw batchError;
        await this.options.write([batch[i]!]);
        this.options.events.publish('store:rows-written', { table: this.options.name, rows: 1 });
      } catch (error) {
        if (this.options.isRetryable?.(error) !== false) {
          // The store went away meanwhile: the rest waits for the normal retry.
          this.failed(error, batch.slice(i));
          return false;
        }
        this.options.events.publish('store:rows-rejected', { table: this.options.name, rows: 1 });
        this.drops.dropped(1, `row refused by the store: ${reasonOf(error)}`);
      }
    }
    this.failures = 0;
    return true;
  }
}
