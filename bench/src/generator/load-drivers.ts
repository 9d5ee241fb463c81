import type { BenchConnection } from './bench-connection.js';
import type { SampleBuffer } from './samples.js';

export interface DriveOptions {
  /** performance.now() time after which no request is sent. */
  readonly stopAt: number;
  /** A request unanswered this long is a timeout. */
  readonly timeoutMs: number;
  /** After stopAt, how long outstanding replies are awaited before they count as timeouts. */
  readonly drainMs: number;
}

const SWEEP_MS = 50;

/**
 * Closed loop: every connection keeps `window` requests in flight; a reply (or a timeout)
 * frees a slot and the next request goes out at once. Latency is measured from the real send,
 * so this mode shows capacity, not latency under a given load (see driveOpenLoop).
 */
export function driveClosedLoop(conns: readonly BenchConnection[], window: number, options: DriveOptions): Promise<void> {
  const refill = (conn: BenchConnection) => {
    const now = performance.now();
    if (now < options.stopAt && conn.isOpen) conn.send(now);
  };
  for (const conn of conns) {
    conn.onSlotFree = refill;
    for (let i = 0; i < window && conn.isOpen; i += 1) conn.send(performance.now());
  }
  return sweepUntilDrained(conns, options);
}

/**
 * Open loop: requests at a fixed total rate, round-robin over the connections, on a schedule
 * fixed in advance. Latency is measured from each request's *intended* send time, so a stall
 * anywhere (server or generator) is charged to every request it delayed: no coordinated
 * omission. The generator's own lag (actual − intended send time) is recorded separately.
 */
export function driveOpenLoop(
  conns: readonly BenchConnection[],
  ratePerSec: number,
  startAt: number,
  options: DriveOptions & { readonly sendLag: SampleBuffer; readonly window: { start: number; end: number } },
): Promise<void> {
  if (conns.length === 0) return Promise.resolve();
  const interval = 1000 / ratePerSec;
  let k = 0;
  const tick = () => {
    const now = performance.now();
    for (;;) {
      const intended = startAt + k * interval;
      if (intended > now || intended >= options.stopAt) break;
      const conn = conns[k % conns.length]!;
      k += 1;
      if (!conn.isOpen) continue;
      conn.send(intended);
      if (intended >= options.window.start && intended < options.window.end) options.sendLag.push(now - intended);
    }
    const next = startAt + k * interval;
    if (next < options.stopAt) setTimeout(tick, Math.max(0, next - performance.now()));
  };
  setTimeout(tick, Math.max(0, startAt - performance.now()));
  return sweepUntilDrained(conns, options);
}

function sweepUntilDrained(conns: readonly BenchConnection[], options: DriveOptions): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      for (const conn of conns) conn.sweep(now, options.timeoutMs);
      if (now < options.stopAt) return;
      const pending = conns.some((conn) => conn.inFlight > 0);
      if (pending && now < options.stopAt + options.drainMs) return;
      // Whatever is still unanswered after the drain is a timeout.
      for (const conn of conns) conn.sweep(Number.POSITIVE_INFINITY, -1);
      clearInterval(timer);
      resolve();
    }, SWEEP_MS);
  });
}
