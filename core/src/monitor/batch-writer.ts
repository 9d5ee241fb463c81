import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { EventBus } from '../events/bridge-events.js';

export interface BatchWriterOptions<T> {
  /** Counter label, e.g. `chat_log`. */
  readonly name: string;
  readonly write: (rows: T[]) => Promise<void>;
  readonly batchSize: number;
  /** Rows waiting beyond this are dropped and counted (the store is down or too slow). */
  readonly limit: number;
  /** Rows are written at most this long after they arrive. */
  readonly flushDelayMs: number;
  /** Delay before retrying a failed write (doubles up to 30 s). */
  readonly retryDelayMs: number;
  /** Where drops, written rows and errors are published (and counted, as facts). */
  readonly events: EventBus;
  readonly log: CoreLogger;
  /**
   * False for an error that retrying cannot fix (the store answered and refused the rows: data
   * too long for an old table's column, a missing column). Such a batch is written again row by
   * row and only the refused rows are dropped and counted. Default: every error is retried.
   */
  readonly isRetryable?: (error: unknown) => boolean;
}

/**
 * Buffers rows that must not slow the pipeline (chat log, ping results) and writes them in
 * batches, one batch in flight at a time. A failed batch goes back to the front and is retried
 * with backoff; when the buffer is full the newest rows are dropped and counted, never silently.
 */
export class BatchWriter<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | null = null;
  private failures = 0;
  private closed = false;

  constructor(private readonly options: BatchWriterOptions<T>) {}

  get pending(): number {
    return this.buffer.length;
  }

  push(row: T): void {
    if (this.buffer.length >= this.options.limit) {
      this.options.events.publish('store:write-dropped', { table: this.options.name, rows: 1 });
      return;
    }
    this.buffer.push(row);
    if (!this.timer && !this.writing && !this.closed) this.schedule(this.options.flushDelayMs);
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

  /** Final flush; rows that still cannot be written are counted as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.buffer.length > 0) {
      this.options.events.publish('store:write-dropped', { table: this.options.name, rows: this.buffer.length });
      this.options.log.error({ writer: this.options.name, rows: this.buffer.length }, 'rows dropped at close: store unavailable');
      this.buffer = [];
    }
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drainInBackground();
    }, delayMs);
    this.timer.unref();
  }

  private async drainInBackground(): Promise<void> {
    while (this.buffer.length > 0 && !this.closed) {
      if (!(await this.writeBatch())) {
        const delay = Math.min(30_000, this.options.retryDelayMs * 2 ** Math.min(this.failures - 1, 10));
        this.schedule(delay);
        return;
      }
    }
  }

  private async writeBatch(): Promise<boolean> {
    const batch = this.buffer.splice(0, this.options.batchSize);
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
        this.failures += 1;
        this.options.events.publish('store:error', { operation: this.options.name });
        this.options.log.warn({ writer: this.options.name, rows: batch.length, err: reasonOf(error) }, 'batch write failed; will retry');
        const room = Math.max(0, this.options.limit - this.buffer.length);
        if (room < batch.length) this.options.events.publish('store:write-dropped', { table: this.options.name, rows: batch.length - room });
        this.buffer.unshift(...batch.slice(0, room));
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = null;
    }
    return ok;
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
          this.failures += 1;
          this.options.events.publish('store:error', { operation: this.options.name });
          const rest = batch.slice(i);
          const room = Math.max(0, this.options.limit - this.buffer.length);
          if (room < rest.length) this.options.events.publish('store:write-dropped', { table: this.options.name, rows: rest.length - room });
          this.buffer.unshift(...rest.slice(0, room));
          return false;
        }
        this.options.events.publish('store:write-dropped', { table: this.options.name, rows: 1 });
        this.options.events.publish('store:rows-rejected', { table: this.options.name, rows: 1 });
        this.options.log.error({ writer: this.options.name, err: reasonOf(error) }, 'row refused by the store; dropped');
      }
    }
    this.failures = 0;
    return true;
  }
}
