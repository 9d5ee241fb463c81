import type { FaultPhone } from './fault-phone.js';

export interface Distribution {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function distribution(samples: readonly number[]): Distribution {
  if (samples.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(sorted[sorted.length - 1]!) };
}

/** Jain's fairness index: 1 = every phone got the same, 1/n = one phone got everything. */
export function jain(values: readonly number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : Number(((sum * sum) / (values.length * squares)).toFixed(4));
}

export interface Fairness {
  /** Replies per phone that arrived within the overload window. */
  readonly answeredInWindow: { readonly min: number; readonly max: number; readonly jain: number };
  /** Each phone's median latency (ms): the spread says whether some phones waited much longer. */
  readonly medianLatencyPerPhone: { readonly min: number; readonly max: number };
}

/** Latency (send → first reply) over every answered message, and per-phone fairness. */
export function latencyAndFairness(phones: readonly FaultPhone[], windowEnd: number): { latency: Distribution; fairness: Fairness } {
  const all: number[] = [];
  const inWindow: number[] = [];
  const medians: number[] = [];
  for (const phone of phones) {
    const firstReply = new Map<string, number>();
    for (const r of phone.received) if (r.logId !== null && !firstReply.has(r.logId)) firstReply.set(r.logId, r.at);
    const own: number[] = [];
    let counted = 0;
    for (const m of phone.sent) {
      const at = firstReply.get(m.logId);
      if (at === undefined) continue;
      own.push(at - m.at);
      if (at <= windowEnd) counted += 1;
    }
    all.push(...own);
    inWindow.push(counted);
    medians.push(distribution(own).p50);
  }
  return {
    latency: distribution(all),
    fairness: {
      answeredInWindow: { min: Math.min(...inWindow), max: Math.max(...inWindow), jain: jain(inWindow) },
      medianLatencyPerPhone: { min: Math.min(...medians), max: Math.max(...medians) },
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Open-loop sending: every phone sends `ratePerSec` messages a second on its own schedule
 * (phases spread, so 50 phones do not send in lock step); a late tick catches up, so the offered
 * load is what was asked for even when the event loop stalls. Returns a stop function.
 */
export function drive(phones: readonly FaultPhone[], ratePerSec: number): () => void {
  const started = performance.now();
  const due = phones.map(() => 0);
  const phase = phones.map(() => Math.random() / ratePerSec);
  const timer = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    for (const [i, phone] of phones.entries()) {
      const target = Math.floor((elapsed - phase[i]!) * ratePerSec) + 1;
      while (due[i]! < target) {
        due[i] += 1;
        phone.send();
      }
    }
  }, 10);
  return () => clearInterval(timer);
}

/** Polls `done` every 100 ms until it holds or `timeoutMs` passes; resolves with whether it held. */
export async function waitFor(done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (performance.now() >= until) return false;
    await sleep(100);
  }
}
