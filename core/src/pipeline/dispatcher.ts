import { BridgeError } from '../errors.js';
import { type Lane, RoomLanes } from './room-lanes.js';

/**
 * A job's cancellation (processing timeout, shutdown). Most jobs finish without anyone looking at
 * an AbortSignal, and an AbortController per job is not free, so the controller is made only
 * when `signal` is read; `aborted`, `reason` and `race` need none.
 */
export class JobAbort {
  #aborted = false;
  #reason: unknown = undefined;
  #controller: AbortController | undefined;
  #listeners: ((reason: unknown) => void)[] | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** An AbortSignal that aborts with this job (made on first read, aborted already if the job is). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }

  /** Calls `listener` once when the job is aborted (the reply path releases the room's order). */
  onAbort(listener: (reason: unknown) => void): void {
    if (this.#aborted) listener(this.#reason);
    else (this.#listeners ??= []).push(listener);
  }

  /**
   * Settles with `work`, or rejects with the abort reason as soon as the job is aborted, whichever
   * comes first (the work itself goes on; nobody waits for it any more).
   */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.#aborted) return Promise.reject(abortError(this.#reason));
    return new Promise<T>((resolve, reject) => {
      // Not removed when the work wins: the list lives as long as the job, and a late reject is a no-op.
      (this.#listeners ??= []).push((reason) => reject(abortError(reason)));
      work.then(resolve, reject);
    });
  }
}

function abortError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

export interface DispatcherJob {
  readonly botName: string;
  readonly roomKey: string;
}

export interface DispatcherOptions<J extends DispatcherJob> {
  readonly concurrency: { readonly global: number; readonly perBot: number; readonly perRoom: number };
  /** Per-room limit (e.g. the store's room_concurrency); read when the room's lane is created. */
  readonly roomConcurrency?: (botName: string, roomKey: string) => number | undefined;
  /** Queued jobs at which the producers are paused (pipeline.queueCapacity). Default 10,000. */
  readonly capacity?: number;
  readonly processingTimeoutMs: number;
  /**
   * Runs one job. `abort` aborts on timeout or shutdown, with a BridgeError as its reason.
   * `runnableAt` (clock `now`) is when the job became its room's next to start, or 0 when not
   * measured (see `timeRunnable`).
   */
  readonly worker: (job: J, abort: JobAbort, runnableAt: number) => Promise<void>;
  /**
   * Asked when a job becomes its room's next to start: true records the time (for the
   * profiler's queue/concurrency split). Without it nothing is measured.
   */
  readonly timeRunnable?: () => boolean;
  /** The queue reached capacity: pause reading on every socket. Callbacks must not throw. */
  readonly onSaturated?: () => void;
  /** The queue fell to the low-water mark: resume reading. */
  readonly onUnsaturated?: () => void;
  /** A job left the dispatcher (finished, failed, timed out or aborted); its slot is free. */
  readonly onJobEnd?: (job: J) => void;
  /** A job exceeded processingTimeoutMs; its slot is already free. */
  readonly onTimeout?: (job: J) => void;
  /** A worker rejected (or threw); its slot is already free. */
  readonly onError?: (job: J, err: unknown) => void;
  /** Monotonic milliseconds for wait-time statistics. */
  readonly now?: () => number;
}

export interface DispatcherStats {
  readonly queued: number;
  readonly running: number;
  /** Timed-out or shutdown-aborted workers whose promise has not settled yet (they hold no slot). */
  readonly lingering: number;
  readonly activeRooms: number;
  readonly paused: boolean;
  readonly saturated: boolean;
  readonly runningPerBot: Readonly<Record<string, number>>;
  readonly totals: {
    readonly pushed: number;
    readonly started: number;
    readonly completed: number;
    readonly failed: number;
    readonly timedOut: number;
    readonly aborted: number;
    readonly abandoned: number;
  };
  readonly maxWaitMs: number;
}

/** What `close()` left unfinished. */
export interface DispatcherClosed<J> {
  /** Queued jobs that never started, in push order. */
  readonly abandoned: J[];
  /** Running jobs aborted when the grace period ended, in start order. */
  readonly aborted: J[];
}

interface QueuedJob<J> {
  readonly job: J;
  readonly seq: number;
  readonly enqueuedAt: number;
  /** When it became its room's next to start; 0 when not measured. */
  runnableAt: number;
}

interface RunningJob<J> {
  readonly job: J;
  readonly lane: Lane<QueuedJob<J>>;
  readonly abort: JobAbort;
  timer: ReturnType<typeof setTimeout> | undefined;
  ended: boolean;
}

/**
 * The message queue and its workers (fastq vocabulary). Never drops a job: a full queue asks the
 * producers to pause (onSaturated) and accepts what still arrives; a job only leaves unprocessed
 * through `close()`, which returns it.
 *
 * Saturation has hysteresis: onSaturated fires when `length()` reaches `capacity`, onUnsaturated
 * when it falls to the low-water mark `capacity - max(1, floor(capacity / 10))` (9,000 for
 * 10,000), so reading is not paused and resumed on every single job.
 */
export class Dispatcher<J extends DispatcherJob> {
  private readonly lanes: RoomLanes<QueuedJob<J>>;
  private readonly active = new Set<RunningJob<J>>();
  private readonly options: DispatcherOptions<J>;
  private readonly globalLimit: number;
  private readonly capacity: number;
  private readonly lowWater: number;
  private readonly now: () => number;
  private drainWaiters: (() => void)[] = [];
  private closePromise: Promise<DispatcherClosed<J>> | undefined;
  private closing = false;
  private paused = false;
  private stopped = false;
  private pumping = false;
  private saturated = false;
  private seq = 0;
  private lingering = 0;
  private maxWaitMs = 0;
  private readonly totals = { pushed: 0, started: 0, completed: 0, failed: 0, timedOut: 0, aborted: 0, abandoned: 0 };

  constructor(options: DispatcherOptions<J>) {
    this.options = options;
    this.globalLimit = Math.max(1, options.concurrency.global);
    this.capacity = Math.max(1, options.capacity ?? 10_000);
    this.lowWater = this.capacity - Math.max(1, Math.floor(this.capacity / 10));
    this.now = options.now ?? (() => performance.now());
    const timeRunnable = options.timeRunnable;
    this.lanes = new RoomLanes<QueuedJob<J>>({
      perBot: options.concurrency.perBot,
      perRoom: options.concurrency.perRoom,
      roomConcurrency: options.roomConcurrency,
      ...(timeRunnable && {
        onRunnable: (queued: QueuedJob<J>) => {
          // A lane unparked after its bot's limit keeps the time it first became runnable.
          if (queued.runnableAt === 0 && timeRunnable()) queued.runnableAt = this.now();
        },
      }),
    });
  }

  /**
   * Queues a job; never drops it. When a slot is free the worker starts synchronously inside
   * this call (up to its first await). Throws BRIDGE_ERR_ENQUEUE_AFTER_CLOSE once close() began.
   */
  push(job: J): void {
    if (this.closing) throw new BridgeError('BRIDGE_ERR_ENQUEUE_AFTER_CLOSE');
    this.lanes.enqueue(job.botName, job.roomKey, { job, seq: this.seq++, enqueuedAt: this.now(), runnableAt: 0 });
    this.totals.pushed += 1;
    this.pump();
    // Checked after pump: a job that started at once never counted towards saturation.
    if (!this.saturated && this.lanes.queued >= this.capacity) {
      this.saturated = true;
      this.options.onSaturated?.();
    }
  }

  /** False once close() began: push would throw, so admission keeps a late line another way. */
  get accepting(): boolean {
    return !this.closing;
  }

  /** Jobs queued, not running. */
  length(): number {
    return this.lanes.queued;
  }

  running(): number {
    return this.active.size;
  }

  idle(): boolean {
    return this.lanes.queued === 0 && this.active.size === 0;
  }

  /** Resolves when nothing is queued or running (at once if idle now). */
  drained(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Stops starting new jobs; running jobs go on. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  stats(): DispatcherStats {
    return {
      queued: this.lanes.queued,
      running: this.active.size,
      lingering: this.lingering,
      activeRooms: this.lanes.activeRooms,
      paused: this.paused,
      saturated: this.saturated,
      runningPerBot: this.lanes.runningPerBot(),
      totals: { ...this.totals },
      maxWaitMs: this.maxWaitMs,
    };
  }

  /**
   * Stops accepting at once, lets queued and running jobs go on for up to `graceMs`, then
   * aborts what still runs (reason BRIDGE_ERR_SHUTDOWN, slots freed without waiting for the
   * workers) and returns the queued jobs it abandoned, in push order, and the running jobs it
   * aborted, in start order. A paused dispatcher stays
   * paused: its queued jobs wait out the grace period and are returned. Calling it again returns
   * the same promise. onUnsaturated is not called for the emptied queue.
   */
  close(options: { graceMs: number }): Promise<DispatcherClosed<J>> {
    // Set before shutdown runs: abort listeners fire synchronously inside it and may push.
    this.closing = true;
    this.closePromise ??= this.shutdown(options.graceMs);
    return this.closePromise;
  }

  private async shutdown(graceMs: number): Promise<DispatcherClosed<J>> {
    if (!this.idle()) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([this.drained(), graceOver]);
      clearTimeout(timer);
    }
    this.stopped = true;
    const abandoned = this.lanes
      .takeAllQueued()
      .sort((a, b) => a.seq - b.seq)
      .map((queued) => queued.job);
    this.totals.abandoned += abandoned.length;
    const reason = new BridgeError('BRIDGE_ERR_SHUTDOWN', { graceMs });
    const aborted: J[] = [];
    for (const run of [...this.active]) {
      aborted.push(run.job);
      this.end(run);
      this.lingering += 1;
      this.totals.aborted += 1;
      run.abort.abort(reason);
    }
    this.settleDrained();
    return { abandoned, aborted };
  }

  private pump(): void {
    // A worker that pushes synchronously re-enters here; the outer loop picks its job up.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.paused && !this.stopped && this.active.size < this.globalLimit) {
        const next = this.lanes.take();
        if (next === undefined) break;
        this.start(next.item, next.lane);
        if (this.saturated && this.lanes.queued <= this.lowWater) {
          this.saturated = false;
          this.options.onUnsaturated?.();
        }
      }
    } finally {
      this.pumping = false;
    }
    this.settleDrained();
  }

  private start(queued: QueuedJob<J>, lane: Lane<QueuedJob<J>>): void {
    const run: RunningJob<J> = { job: queued.job, lane, abort: new JobAbort(), timer: undefined, ended: false };
    this.active.add(run);
    this.totals.started += 1;
    this.maxWaitMs = Math.max(this.maxWaitMs, this.now() - queued.enqueuedAt);
    run.timer = setTimeout(() => this.timeOut(run), this.options.processingTimeoutMs);
    let result: Promise<void>;
    try {
      result = Promise.resolve(this.options.worker(run.job, run.abort, queued.runnableAt));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      () => this.settle(run, false, undefined),
      (err: unknown) => this.settle(run, true, err),
    );
  }

  private settle(run: RunningJob<J>, failed: boolean, err: unknown): void {
    if (run.ended) {
      // A timed-out or aborted worker finally gave up; its outcome was already reported.
      this.lingering -= 1;
      return;
    }
    this.end(run);
    if (failed) {
      this.totals.failed += 1;
      this.options.onError?.(run.job, err);
    } else {
      this.totals.completed += 1;
    }
    this.pump();
  }

  private timeOut(run: RunningJob<J>): void {
    if (run.ended) return;
    const timeoutMs = this.options.processingTimeoutMs;
    // The slot is freed before the worker settles: a hanging plugin must not hold it.
    this.end(run);
    this.lingering += 1;
    this.totals.timedOut += 1;
    run.abort.abort(new BridgeError('BRIDGE_ERR_PROCESSING_TIMEOUT', { timeoutMs }));
    this.options.onTimeout?.(run.job);
    this.pump();
  }

  private end(run: RunningJob<J>): void {
    run.ended = true;
    clearTimeout(run.timer);
    run.timer = undefined;
    this.active.delete(run);
    this.lanes.release(run.lane);
    this.options.onJobEnd?.(run.job);
  }

  private settleDrained(): void {
    if (this.drainWaiters.length === 0 || !this.idle()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
