import { join } from 'node:path';
import { checkExactlyOnce } from '../exact-once.js';
import { connectPhones } from '../fault-phone.js';
import { pendingCount, readStore } from '../fault-store.js';
import { drive, sleep, waitFor } from '../figures.js';
import { expect, freePort, runScenario, type RunOptions, type ScenarioResult } from '../scenario.js';
import { interestingCounters } from './counters.js';

export interface SigtermParams {
  readonly phones: number;
  readonly ratePerPhone: number;
  readonly delayMs: number;
  readonly concurrency: number;
  /** Sending before the SIGTERM. */
  readonly warmupMs: number;
  /** shutdown.graceMs of the server. */
  readonly graceMs: number;
  /** How long the restarted server gets to answer what the journal kept. */
  readonly replayBoundMs: number;
}

export function sigtermParams(quick: boolean): SigtermParams {
  return { phones: 50, ratePerPhone: 4, delayMs: 100, concurrency: 10, warmupMs: quick ? 3_000 : 10_000, graceMs: 10_000, replayBoundMs: 40_000 };
}

/**
 * Issue 11 "SIGTERM while phones keep sending": the phones go on writing through the shutdown
 * (and try to reconnect, like the script). Expected: exit 0 within the grace, no connection
 * closed as a handler error, every admitted message answered before the exit or left in the
 * journal and answered exactly once by the next start, in room order.
 */
export function sigtermScenario(options: RunOptions, p: SigtermParams = sigtermParams(options.quick)): Promise<ScenarioResult> {
  return runScenario('sigterm', options, null, async (scope) => {
    const dbFile = join(scope.dir, 'sigterm.db');
    const port = await freePort();
    const env = { FAULT_DELAY_MS: String(p.delayMs), FAULT_CONCURRENCY: String(p.concurrency), FAULT_GRACE_MS: String(p.graceMs) };
    const first = await scope.startServer({ storeUrl: `sqlite:${dbFile}`, env: { ...env }, port });
    const phones = scope.track(await connectPhones(p.phones, { port, botName: 'fault-bot', reconnectDelaysMs: [1_000, 2_000, 4_000] }));
    const stop = drive(phones, p.ratePerPhone);
    await sleep(p.warmupMs);
    const disconnectsBefore = first.disconnectCount();
    const sigtermAt = performance.now();
    scope.log(`SIGTERM with ${phones.reduce((n, ph) => n + ph.sent.length, 0)} sent so far; phones keep sending`);
    // While closing, the admin API should answer 503 rather than refuse connections (issue 11, item 2).
    const probes: { at: number; status: string }[] = [];
    const probing = (async () => {
      while (first.running) {
        const status = await first.probe('/ready');
        if (first.running) probes.push({ at: performance.now(), status });
        await sleep(100);
      }
    })();
    const exit = await first.terminate(p.graceMs + 15_000);
    await probing;
    const exitAt = first.exitedAt ?? performance.now();
    // The admin server closes last: a refusal in the final 300 ms before the exit is not a finding.
    const readiness: Record<string, number> = {};
    for (const probe of probes) if (/^\d+$/.test(probe.status) || exitAt - probe.at > 300) readiness[probe.status] = (readiness[probe.status] ?? 0) + 1;
    stop();
    const atExit = readStore(dbFile);
    const handlerErrors = [...first.disconnects].filter(([reason]) => /handler/i.test(reason)).reduce((n, [, c]) => n + c, 0);
    const reasonsAfterSigterm = Object.fromEntries(first.disconnects);
    const received = () => phones.flatMap((ph) => ph.received);
    const answeredBeforeExit = new Set(received().filter((r) => r.at <= exitAt).map((r) => r.logId));
    const journaledAtExit = new Set(atExit.journal.map((j) => j.log_id));
    const admittedAtExit = phones.flatMap((ph) => ph.sent).filter((m) => answeredBeforeExit.has(m.logId) || atExit.chatLogged.has(m.logId) || journaledAtExit.has(m.logId));
    const leftInJournal = new Set(atExit.journal.filter((j) => j.state === 'admitted').map((j) => j.log_id));
    const unanswerednotKept = admittedAtExit.filter((m) => !answeredBeforeExit.has(m.logId) && !leftInJournal.has(m.logId)).length;
    scope.log(`exit ${exit.code ?? exit.signal} after ${Math.round(exitAt - sigtermAt)} ms; ${admittedAtExit.length} admitted, ${answeredBeforeExit.size} answered before exit, ${leftInJournal.size} left in the journal`);

    // The next start answers what the journal kept (the phones reconnect on their own).
    const second = await scope.startServer({ storeUrl: `sqlite:${dbFile}`, env: { ...env }, port });
    const replayed = await waitFor(() => pendingCount(dbFile) === 0, p.replayBoundMs);
    await sleep(1_000);
    const counters = await second.metrics();
    const secondExit = await second.terminate(p.graceMs + 15_000);
    const store = readStore(dbFile);
    const check = checkExactlyOnce({ sent: phones.flatMap((ph) => ph.sent), received: received(), journal: store.journal, chatLogged: store.chatLogged });

    const failures: string[] = [];
    expect(failures, exit.code === 0 && !exit.forced, `exit after SIGTERM: ${exit.code ?? exit.signal}${exit.forced ? ` (SIGKILL: not exited ${p.graceMs + 15_000} ms after SIGTERM)` : ''}`);
    expect(failures, disconnectsBefore === 0, `disconnects before the SIGTERM: ${disconnectsBefore}`);
    expect(failures, handlerErrors === 0, `connections closed as a handler error during shutdown: ${handlerErrors} (${JSON.stringify(reasonsAfterSigterm)})`);
    expect(failures, unanswerednotKept === 0, `admitted before the exit but neither answered nor kept in the journal: ${unanswerednotKept}`);
    expect(failures, check.lostJournaled === 0 && check.lostUnjournaled === 0, `admitted and never answered (over both runs): ${check.lostJournaled} journaled, ${check.lostUnjournaled} only chat-logged`);
    expect(failures, check.duplicates === 0, `duplicate replies: ${check.duplicates}`);
    expect(failures, check.orderViolations === 0, `room order violations: ${check.orderViolations} (${check.orderExamples.slice(0, 3).join(', ')})`);
    expect(failures, replayed, `journal rows still 'admitted' ${p.replayBoundMs} ms after the restart: ${pendingCount(dbFile)}`);
    expect(failures, (readiness['503'] ?? 0) > 0 && Object.keys(readiness).every((k) => k === '503' || k === '200'), `admin /ready while closing: ${JSON.stringify(readiness)} (expected 503, never a refused connection)`);
    expect(failures, secondExit.code === 0, `second run's exit: ${secondExit.code ?? secondExit.signal}`);
    return {
      failures,
      params: { ...p },
      figures: {
        sent: check.sent,
        admitted: check.admitted,
        answered: check.answered,
        exit: { ...exit, afterMs: Math.round(exitAt - sigtermAt) },
        atExit: { admitted: admittedAtExit.length, answeredBeforeExit: answeredBeforeExit.size, leftInJournal: leftInJournal.size, unansweredNotKept: unanswerednotKept },
        unreadNeverAdmitted: check.unread,
        lostJournaled: check.lostJournaled,
        lostUnjournaled: check.lostUnjournaled,
        duplicates: check.duplicates,
        orderViolations: check.orderViolations,
        orderViolatingRooms: check.orderViolatingRooms,
        orderExamples: check.orderExamples,
        disconnectReasonsFirstRun: reasonsAfterSigterm,
        handlerErrorDisconnects: handlerErrors,
        readinessWhileClosing: readiness,
        notSentWhileDisconnected: phones.reduce((n, ph) => n + ph.skipped, 0),
        examples: check.examples,
        counters: interestingCounters(counters),
      },
    };
  });
}
