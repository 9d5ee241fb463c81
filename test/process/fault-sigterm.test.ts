import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../bench/fault/scenario.js';
import { sigtermScenario } from '../../bench/fault/scenarios/sigterm.js';
import { faultRun } from './fault-options.js';

/**
 * Issue 11's SIGTERM fault, CI-sized (`npm run fault -- --only sigterm` is the full one): 20
 * phones × 10 msg/s, twice the plugin's capacity (10 at a time × 100 ms), so a backlog is queued
 * at the SIGTERM; they keep sending through it (and try to reconnect), then the next start
 * answers what the journal kept. Needs the shutdown drain (issue 11 item 2, merged into
 * integrate at 5b4c8f4): on an older base the last two tests fail (handler-error closes, replies
 * dropped).
 */
const run = faultRun('fault-sigterm');
let result: ScenarioResult | undefined;
const f = () => result!.figures as Record<string, any>;

beforeAll(async () => {
  result = await sigtermScenario(run.options, {
    phones: 20, ratePerPhone: 10, delayMs: 100, concurrency: 10, warmupMs: 2_000, graceMs: 5_000, replayBoundMs: 8_000,
  });
}, 29_000);
afterAll(() => run.finish(result));

describe('fault: SIGTERM while phones keep sending (real process)', () => {
  it('exits 0 within the grace, without duplicates or replies out of room order', () => {
    expect(f().exit).toMatchObject({ code: 0, forced: false });
    expect(f().sent).toBeGreaterThan(100);
    expect({ duplicates: f().duplicates, orderViolations: f().orderViolations }).toEqual({ duplicates: 0, orderViolations: 0 });
  });

  it('closes no connection as a handler error', () => {
    expect(f().handlerErrorDisconnects).toBe(0);
  });

  it('answers every admitted message before the exit or keeps it for the next start', () => {
    expect({ notKept: f().atExit.unansweredNotKept, lost: f().lostJournaled + f().lostUnjournaled }).toEqual({ notKept: 0, lost: 0 });
  });
});
