import { join } from 'node:path';
import { FaultPhone } from '../fault-phone.js';
import { sleep, waitFor } from '../figures.js';
import { expect, freePort, runScenario, type RunOptions, type ScenarioResult, type ScenarioScope } from '../scenario.js';
import { interestingCounters } from './counters.js';

export interface OutboxParams {
  /** Messages sent at once; the room answers them one after another (perRoom 1). */
  readonly messages: number;
  readonly delayMs: number;
  /** How long the phone stays away. */
  readonly gapMs: number;
  /** replies.outbox.ttlMs of the expiry run (shorter than the gap minus the production time). */
  readonly shortTtlMs: number;
}

export function outboxParams(quick: boolean): OutboxParams {
  return quick ? { messages: 10, delayMs: 300, gapMs: 8_000, shortTtlMs: 3_000 } : { messages: 20, delayMs: 500, gapMs: 30_000, shortTtlMs: 5_000 };
}

/** On a base without the outbox (issue 11, item 5; merged into integrate at 062faa1) this scenario is expected to fail. */
export const OUTBOX_PENDING = 'no outbox on this base (replies.outbox.ttlMs not in the config schema)';

interface Outcome {
  /** Message numbers of the replies read before the disconnect, then after the reconnect. */
  readonly before: readonly number[];
  readonly beforeDisconnect: number;
  readonly afterReconnect: readonly number[];
  readonly counters: Record<string, number> | null;
}

/**
 * One phone sends a burst, goes away while its replies are being produced, and comes back after
 * `gapMs`: once with the default TTL (10 min: every reply must arrive, exactly once, in order),
 * once with a TTL shorter than the gap (nothing may arrive late; the rest is expired and counted).
 */
export function outboxScenario(options: RunOptions, p: OutboxParams = outboxParams(options.quick), expectedToFail: string | null = null): Promise<ScenarioResult> {
  return runScenario('outbox', options, expectedToFail, async (scope) => {
    const failures: string[] = [];
    const kept = await away(scope, p, 'kept', null);
    const seqs = [...Array(p.messages).keys()];
    const all = [...kept.before, ...kept.afterReconnect];
    expect(failures, kept.beforeDisconnect < p.messages, `the phone got every reply before it left (${kept.beforeDisconnect}): the scenario did not test the outbox`);
    expect(failures, JSON.stringify(all) === JSON.stringify(seqs), `default TTL: replies over both connections ${JSON.stringify(all)}, expected 0…${p.messages - 1} once each in order (${kept.beforeDisconnect} before the disconnect, ${kept.afterReconnect.length} after the reconnect)`);

    let expired: Outcome | null = null;
    try {
      expired = await away(scope, p, 'expired', p.shortTtlMs);
    } catch (error) {
      failures.push(`short TTL run did not start: ${(error as Error).message.split('\n')[0]!.slice(0, 300)}`);
    }
    if (expired) {
      const due = p.messages - expired.beforeDisconnect;
      const expiredCount = Object.entries(expired.counters ?? {}).filter(([k]) => k.startsWith('botbridge_replies_total') && k.includes('expired')).reduce((n, [, v]) => n + v, 0);
      expect(failures, expired.afterReconnect.length === 0, `short TTL: ${expired.afterReconnect.length} replies arrived after the TTL`);
      expect(failures, expiredCount === due, `short TTL: replies counted expired ${expiredCount}, expected ${due}`);
    }
    return {
      failures,
      params: { ...p },
      figures: {
        defaultTtl: kept,
        shortTtl: expired,
      },
    };
  });
}

/** One run: burst, leave after the first reply, come back after the gap, collect. */
async function away(scope: ScenarioScope, p: OutboxParams, label: string, ttlMs: number | null): Promise<Outcome> {
  const port = await freePort();
  const env: Record<string, string> = { FAULT_DELAY_MS: String(p.delayMs), FAULT_PER_ROOM: '1' };
  if (ttlMs !== null) env.FAULT_OUTBOX_TTL_MS = String(ttlMs);
  const server = await scope.startServer({ storeUrl: `sqlite:${join(scope.dir, `outbox-${label}.db`)}`, env, port });
  const phone = new FaultPhone({ port, index: 0, botName: 'fault-bot', logIdBase: 8_500_000_000_000n });
  scope.track([phone]);
  await phone.connect(false);
  for (let i = 0; i < p.messages; i += 1) phone.send();
  await waitFor(() => phone.received.length > 0, 10_000);
  await phone.disconnect();
  const beforeDisconnect = phone.received.length;
  scope.log(`${label}: left after ${beforeDisconnect} of ${p.messages} replies; back in ${p.gapMs / 1000} s`);
  await sleep(p.gapMs);
  phone.resume();
  await phone.connect(false);
  await waitFor(() => phone.received.length >= p.messages, p.messages * p.delayMs + 10_000);
  await sleep(ttlMs === null ? 1_000 : 3_000);
  const counters = interestingCounters(await server.metrics());
  await server.terminate(15_000);
  const seqOf = (logId: string | null) => (logId === null ? -1 : Number(BigInt(logId) - 8_500_000_000_000n));
  return { before: phone.received.slice(0, beforeDisconnect).map((r) => seqOf(r.logId)), beforeDisconnect, afterReconnect: phone.received.slice(beforeDisconnect).map((r) => seqOf(r.logId)), counters };
}
