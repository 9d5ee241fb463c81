import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../bench/fault/scenario.js';
import { sigkillScenario } from '../../bench/fault/scenarios/sigkill.js';
import { faultRun } from './fault-options.js';

/**
 * Issue 11's crash test, CI-sized (`npm run fault -- --only sigkill` is the full one: 50 phones,
 * 3 kills): 20 phones × 20 msg/s with unique log ids, SIGKILL twice at random moments, restart
 * on the same SQLite file; the phones reconnect after 0.5 s and resend nothing. The checker
 * (bench/fault/exact-once.ts) allows only the documented group-commit window.
 */
const run = faultRun('fault-sigkill');
let result: ScenarioResult | undefined;
const f = () => result!.figures as Record<string, any>;

beforeAll(async () => {
  result = await sigkillScenario(run.options, {
    phones: 20, ratePerPhone: 20, delayMs: 20, kills: 2, runMs: [1_500, 3_000], finalRunMs: 1_000,
    reconnectDelaysMs: [500, 1_000], replayBoundMs: 6_000, backBoundMs: 6_000,
  });
}, 29_000);
afterAll(() => run.finish(result));

describe('fault: SIGKILL and restart with phones sending (real process)', () => {
  it('answers every committed message, and repeats only done marks of the last commit window', () => {
    expect(f().sent).toBeGreaterThan(1_000);
    expect({ lostJournaled: f().lostJournaled, unexplainedDuplicates: f().unexplainedDuplicates }).toEqual({ lostJournaled: 0, unexplainedDuplicates: 0 });
  });

  // Issue 11: every reply in room order. A reconnected phone writes fresh lines at once; its
  // replayed rows are admitted when its session becomes ready, before any of them.
  it('keeps room order across the kills: replayed messages are answered before fresh ones', () => {
    expect(f().answered).toBeGreaterThan(1_000);
    expect({ orderViolations: f().orderViolations, acrossReconnect: f().orderViolationsAcrossReconnect }).toEqual({ orderViolations: 0, acrossReconnect: 0 });
  });
});
