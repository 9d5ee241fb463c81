import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../bench/fault/scenario.js';
import { overloadScenario } from '../../bench/fault/scenarios/overload.js';
import { faultRun } from './fault-options.js';

/**
 * Issue 11's overload fault, CI-sized (`npm run fault -- --only overload` is the full minute):
 * `botbridge start` with a plugin of known capacity (10 at a time × 50 ms = 200 msg/s), 20 phones
 * offering 3× that for 4 s with a queue smaller than their combined credits (so every socket is
 * paused) and 1 s pings (so paused reading would look like silence within 3 s). Asserts only
 * on disconnects, exact-once and order, never on latency.
 */
const run = faultRun('fault-overload');
let result: ScenarioResult | undefined;

beforeAll(async () => {
  result = await overloadScenario(run.options, {
    phones: 20, delayMs: 50, concurrency: 10, loadFactor: 3, durationMs: 4_000, pingIntervalMs: 1_000, queueCapacity: 500,
    drainBoundMs: 14_000, stallMs: 8_000,
  });
}, 29_000);
afterAll(() => run.finish(result));

describe('fault: overload at 3× capacity (real process)', () => {
  it('keeps every phone connected and answers every message exactly once, in room order', () => {
    const f = result!.figures as Record<string, any>;
    expect(f.disconnects).toMatchObject({ serverLog: 0, phones: 0 });
    expect(f.sent).toBeGreaterThan(2_000);
    expect({ unanswered: f.unanswered, duplicates: f.duplicates, orderViolations: f.orderViolations }).toEqual({ unanswered: 0, duplicates: 0, orderViolations: 0 });
    expect(result!.failures).toEqual([]);
  });
});
