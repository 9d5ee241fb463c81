import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryRelief } from '../../src/monitor/memory-relief.js';

const log = pino({ level: 'silent' });

function relief(over: { quietMs?: number; minBurst?: number } = {}) {
  const state = { admitted: 0, collected: 0 };
  const r = new MemoryRelief({
    activity: () => state.admitted,
    quietMs: over.quietMs ?? 10_000,
    minBurst: over.minBurst ?? 1_000,
    log,
    collect: () => (state.collected += 1),
  });
  return { r, state };
}

describe('MemoryRelief', () => {
  it('releases once after a burst (two full GCs, a tick apart), only when the quiet period has passed', () => {
    const { r, state } = relief();
    r.check(0);
    state.admitted = 5_000;
    r.check(1_000); // busy
    r.check(5_000);
    expect(state.collected).toBe(0); // quiet for 4 s only
    r.check(11_000);
    expect(state.collected).toBe(1);
    r.check(13_000);
    expect(state.collected).toBe(2);
    r.check(30_000);
    r.check(60_000);
    expect(state.collected).toBe(2); // no new burst, no new GC
    expect(r.compactions).toBe(1);
  });

  it('never compacts in the middle of traffic, nor after a trickle below the burst size', () => {
    const { r, state } = relief();
    r.check(0);
    for (let t = 1_000; t <= 100_000; t += 1_000) {
      state.admitted += 10_000;
      r.check(t);
    }
    expect(state.collected).toBe(0);
    const trickle = relief();
    trickle.r.check(0);
    trickle.state.admitted = 999;
    trickle.r.check(1_000);
    trickle.r.check(60_000);
    expect(trickle.state.collected).toBe(0);
  });

  it('counts a burst across several small ones, and starts counting afresh after a compaction', () => {
    const { r, state } = relief({ quietMs: 1_000 });
    r.check(0);
    state.admitted = 600;
    r.check(100);
    r.check(2_000); // 600 < 1,000: nothing
    state.admitted = 1_200;
    r.check(2_100);
    r.check(3_200);
    expect(state.collected).toBe(1);
    // Traffic before the second pass cancels it, and 300 messages are no new burst.
    state.admitted = 1_500;
    r.check(3_300);
    r.check(10_000);
    expect(state.collected).toBe(1);
    expect(r.compactions).toBe(0);
  });

  it('returns the heap a burst grew (the real full GC, exposed at run time)', () => {
    const admitted = { n: 0 };
    const r = new MemoryRelief({ activity: () => admitted.n, quietMs: 1, minBurst: 1, log });
    r.check(0);
    // A burst's garbage: objects that survive long enough to be promoted, then are dropped.
    let burst: { id: number; text: string }[] = [];
    for (let i = 0; i < 400_000; i += 1) burst.push({ id: i, text: `message ${i}` });
    admitted.n = burst.length;
    burst = [];
    r.check(1);
    const grown = process.memoryUsage().heapUsed;
    r.check(10);
    r.check(20);
    expect(r.compactions).toBe(1);
    expect(process.memoryUsage().heapUsed).toBeLessThan(grown - 10 * 1_048_576);
    expect(burst).toHaveLength(0);
  });
});
