import { join } from 'node:path';
import { checkExactlyOnce } from '../exact-once.js';
import { connectPhones } from '../fault-phone.js';
import { readStore } from '../fault-store.js';
import { drive, latencyAndFairness, sleep, waitFor } from '../figures.js';
import { expect, runScenario, type RunOptions, type ScenarioResult } from '../scenario.js';
import { interestingCounters } from './counters.js';

export interface OverloadParams {
  readonly phones: number;
  /** The plugin's fixed time per message and the global concurrency: capacity = concurrency ÷ delay. */
  readonly delayMs: number;
  readonly concurrency: number;
  /** Offered load as a multiple of the capacity. */
  readonly loadFactor: number;
  readonly durationMs: number;
  /** Short pings, so a phone the server stopped reading looks silent within seconds (3 intervals). */
  readonly pingIntervalMs: number;
  /** Below phones × maxQueuedPerConnection (100): the shared queue fills, every socket pauses. */
  readonly queueCapacity: number;
  /** Longest drain after the window; default 1.5 × the backlog's time at capacity + 30 s. */
  readonly drainBoundMs?: number;
  /** No reply for this long ends the drain early (nothing is moving). */
  readonly stallMs?: number;
}

export function overloadParams(quick: boolean): OverloadParams {
  return { phones: 50, delayMs: 50, concurrency: 10, loadFactor: 3, durationMs: quick ? 15_000 : 60_000, pingIntervalMs: 2_000, queueCapacity: 2_000 };
}

/**
 * Issue 11 "overload at 3× capacity for a minute with 50 phones": open-loop phones offer 3× what
 * the dispatcher can do, then stop; the backlog drains (late is allowed). Expected: 0
 * disconnects, every message answered exactly once, in room order, every chat-log row written.
 */
export function overloadScenario(options: RunOptions, p: OverloadParams = overloadParams(options.quick)): Promise<ScenarioResult> {
  return runScenario('overload', options, null, async (scope) => {
    const capacity = (p.concurrency * 1000) / p.delayMs;
    const ratePerPhone = (capacity * p.loadFactor) / p.phones;
    const dbFile = join(scope.dir, 'overload.db');
    const server = await scope.startServer({
      storeUrl: `sqlite:${dbFile}`,
      env: {
        FAULT_DELAY_MS: String(p.delayMs),
        FAULT_CONCURRENCY: String(p.concurrency),
        FAULT_PING_INTERVAL_MS: String(p.pingIntervalMs),
        FAULT_PING_JITTER_MS: String(Math.round(p.pingIntervalMs / 2)),
        FAULT_QUEUE_CAPACITY: String(p.queueCapacity),
      },
    });
    const phones = scope.track(await connectPhones(p.phones, { port: server.port, botName: 'fault-bot' }));
    scope.log(`${p.phones} phones × ${ratePerPhone.toFixed(1)} msg/s = ${(ratePerPhone * p.phones).toFixed(0)} msg/s offered, capacity ${capacity} msg/s, ${p.durationMs / 1000} s`);
    const start = performance.now();
    const stop = drive(phones, ratePerPhone);
    await sleep(p.durationMs);
    stop();
    const windowEnd = performance.now();
    const sentCount = () => phones.reduce((n, ph) => n + ph.sent.length, 0);
    const answeredCount = () => phones.reduce((n, ph) => n + new Set(ph.received.map((r) => r.logId)).size, 0);
    const answeredInWindow = answeredCount();
    scope.log(`window over: ${sentCount()} sent, ${answeredInWindow} answered; draining`);

    // Drain: until every sent message is answered, or nothing moves for `stallMs`, or the bound.
    const bound = p.drainBoundMs ?? (p.loadFactor * p.durationMs) * 1.5 + 30_000;
    const stallMs = p.stallMs ?? 20_000;
    let last = -1;
    let lastMove = performance.now();
    const drained = await waitFor(() => {
      const answered = answeredCount();
      if (answered !== last) {
        last = answered;
        lastMove = performance.now();
      }
      return answered >= sentCount() || performance.now() - lastMove > stallMs;
    }, bound);
    const drainMs = performance.now() - windowEnd;
    await sleep(500);
    const counters = await server.metrics();
    const disconnectsBeforeStop = server.disconnectCount();
    const closedAtPhones = phones.reduce((n, ph) => n + ph.closes.length, 0);
    const exit = await server.terminate(30_000);
    const store = readStore(dbFile);
    const sent = phones.flatMap((ph) => ph.sent);
    const check = checkExactlyOnce({ sent, received: phones.flatMap((ph) => ph.received), journal: store.journal, chatLogged: store.chatLogged });
    const { latency, fairness } = latencyAndFairness(phones, windowEnd);

    const failures: string[] = [];
    expect(failures, disconnectsBeforeStop === 0 && closedAtPhones === 0, `phones disconnected under overload: ${disconnectsBeforeStop} (server log), ${closedAtPhones} (phones)`);
    expect(failures, check.answered === check.sent, `unanswered messages: ${check.sent - check.answered} of ${check.sent} (lost with the journal row: ${check.lostJournaled}; drained: ${drained})`);
    expect(failures, check.duplicates === 0, `duplicate replies: ${check.duplicates}`);
    expect(failures, check.orderViolations === 0, `room order violations: ${check.orderViolations} (${check.orderExamples.slice(0, 3).join(', ')})`);
    expect(failures, store.chatLogged.size === check.sent, `chat-log received rows: ${store.chatLogged.size} of ${check.sent}`);
    expect(failures, exit.code === 0 && !exit.forced, `graceful stop after the drain: exit ${exit.code ?? exit.signal}${exit.forced ? ' (SIGKILL after 30 s)' : ''}`);
    const skipped = phones.reduce((n, ph) => n + ph.skipped, 0);
    return {
      failures,
      params: { ...p, capacityPerSec: capacity, offeredPerSec: ratePerPhone * p.phones },
      figures: {
        sent: check.sent,
        answered: check.answered,
        answeredInWindow,
        unanswered: check.sent - check.answered,
        notSentWhileDisconnected: skipped,
        duplicates: check.duplicates,
        orderViolations: check.orderViolations,
        orderViolatingRooms: check.orderViolatingRooms,
        disconnects: { serverLog: disconnectsBeforeStop, phones: closedAtPhones, phoneReasons: phones.flatMap((ph) => ph.closes.map((c) => c.how)).slice(0, 10) },
        throughputInWindowPerSec: Math.round(answeredInWindow / ((windowEnd - start) / 1000)),
        drainMs: Math.round(drainMs),
        drained,
        latencyMs: latency,
        fairness,
        chatLog: { receivedRows: store.chatLogged.size, replyRows: [...store.replyRows.values()].reduce((a, b) => a + b, 0), due: 2 * check.sent },
        exit,
        counters: interestingCounters(counters),
      },
    };
  });
}
