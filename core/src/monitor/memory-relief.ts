import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { CoreLogger } from '../logger.js';

export interface MemoryReliefOptions {
  /** A count that grows with the work done (admitted messages). */
  readonly activity: () => number;
  /** Quiet this long after a burst before the heap is compacted (memory.releaseAfterQuietMs). */
  readonly quietMs: number;
  /** At least this many units of activity since the last compaction make a burst worth releasing. */
  readonly minBurst: number;
  readonly log: CoreLogger;
  /** Injectable for tests; default: V8's full GC (exposed on first use). */
  readonly collect?: () => void;
  /** How often activity is sampled. Default: a fifth of quietMs, at least 200 ms. */
  readonly checkIntervalMs?: number;
}

/**
 * Gives a burst's memory back once the load has stopped (docs/architecture.md, "Memory").
 *
 * Under load V8 grows its heap (young generation to its maximum, old generation to a limit far
 * above what is live), and an idle process allocates too little for V8 to collect again: the
 * pages stay committed for as long as the phones are quiet, often hours. Full GCs after a
 * quiet period (PASSES, a tick apart) compact the heap and return the freed pages (RSS follows
 * within seconds). They run once per burst, only while nothing has been admitted for
 * `quietMs`, so their pauses (tens of ms) never land in the middle of traffic.
 */
export class MemoryRelief {
  private timer: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private sinceCompaction = 0;
  private quietSince = 0;
  /** Passes of the current release still to run (see PASSES). */
  private passesLeft = 0;
  private readonly collect: () => void;

  constructor(private readonly options: MemoryReliefOptions) {
    this.collect = options.collect ?? fullGc;
  }

  /** Releases completed so far (each of PASSES full GCs). */
  compactions = 0;

  start(): void {
    if (this.timer !== undefined) return;
    this.lastActivity = this.options.activity();
    this.quietSince = performance.now();
    const every = this.options.checkIntervalMs ?? Math.max(200, Math.floor(this.options.quietMs / 5));
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample (the timer's tick; public for tests). */
  check(now = performance.now()): void {
    const activity = this.options.activity();
    const delta = activity - this.lastActivity;
    this.lastActivity = activity;
    if (delta > 0) {
      this.sinceCompaction += delta;
      this.quietSince = now;
      this.passesLeft = 0;
      return;
    }
    if (this.passesLeft === 0) {
      if (this.sinceCompaction < this.options.minBurst || now - this.quietSince < this.options.quietMs) return;
      this.passesLeft = PASSES;
      this.sinceCompaction = 0;
    }
    this.passesLeft -= 1;
    const before = process.memoryUsage();
    const started = performance.now();
    try {
      this.collect();
    } catch (error) {
      this.options.log.warn({ err: String(error) }, 'memory relief: full GC failed; not tried again');
      this.stop();
      return;
    }
    if (this.passesLeft === 0) this.compactions += 1;
    const after = process.memoryUsage();
    this.options.log.debug(
      { pass: PASSES - this.passesLeft, ms: Math.round(performance.now() - started), heapTotalBefore: before.heapTotal, heapTotalAfter: after.heapTotal, rssBefore: before.rss },
      'memory relief: heap compacted after a burst',
    );
  }
}

/**
 * Full GCs per release, one a tick apart. Measured (bench, 100 connections, 60 s): the first
 * frees the objects but leaves most emptied pages committed (heap total 176 → 95 MiB); the
 * second, once the sweeper has finished, releases them (→ 38 MiB, RSS −56 MiB).
 */
const PASSES = 2;

let exposedGc: (() => void) | undefined;

/**
 * V8's full GC. Without --expose-gc the flag is set at run time and `gc` taken from a fresh
 * context (the flag applies to contexts created after it); the process's own global is left alone.
 */
function fullGc(): void {
  if (exposedGc === undefined) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing === 'function') exposedGc = existing;
    else {
      setFlagsFromString('--expose-gc');
      exposedGc = runInNewContext('gc') as () => void;
    }
  }
  exposedGc();
}

/**
 * Caps V8's old-generation growth (memory.heapGrowthPercent): after each full GC the next one
 * comes once the heap has grown by `percent` over what survived, instead of V8's own factor
 * (up to ×4 where the machine has a lot of memory). V8 reads the flag at every limit it
 * computes, so setting it in a running process takes effect from the next full GC (unlike the
 * heap limit, which is fixed at start). 0 restores V8's own policy. Process-wide, as the heap is.
 */
export function setHeapGrowth(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${Math.max(0, Math.floor(percent))}`);
}
