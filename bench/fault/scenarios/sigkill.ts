import { join } from 'node:path';
import { checkExactlyOnce, type KillSnapshot } from '../exact-once.js';
import { connectPhones } from '../fault-phone.js';
import { pendingCount, readStore } from '../fault-store.js';
import { drive, sleep, waitFor } from '../figures.js';
import { expect, freePort, runScenario, type RunOptions, type ScenarioResult } from '../scenario.js';
import { interestingCounters } from './counters.js';

export interface SigkillParams {
  readonly phones: number;
  readonly ratePerPhone: number;
  readonly delayMs: number;
  readonly kills: number;
  /** Each run before a kill lasts a random time in this range (ms). */
  readonly runMs: readonly [number, number];
  /** Sending after the last restart, before the drain. */
  readonly finalRunMs: number;
  /** The phones' reconnect delays (the script: 4, 8, 16 s …; faster is allowed, resending is not). */
  readonly reconnectDelaysMs: readonly number[];
  readonly replayBoundMs: number;
  /** How long all phones get to be back after a restart. */
  readonly backBoundMs?: number;
}

export function sigkillParams(quick: boolean): SigkillParams {
  return {
    phones: 50,
    ratePerPhone: 20,
    delayMs: 20,
    kills: 3,
    runMs: quick ? [2_000, 4_000] : [5_000, 15_000],
    finalRunMs: quick ? 2_000 : 10_000,
    reconnectDelaysMs: [1_000, 2_000, 4_000],
    replayBoundMs: 45_000,
  };
}

/**
 * Issue 11's crash test: 50 phones × 20 msg/s with unique log ids; SIGKILL at random moments,
 * restart on the same store, the phones reconnect (resending nothing). The checker runs over
 * the phones' histories, the journal snapshots taken right after each kill and the final
 * store: every admitted message exactly one reply, in room order, except the documented
 * group-commit window, which is reported per kill.
 */
export function sigkillScenario(options: RunOptions, p: SigkillParams = sigkillParams(options.quick)): Promise<ScenarioResult> {
  return runScenario('sigkill', options, null, async (scope) => {
    const dbFile = join(scope.dir, 'sigkill.db');
    const port = await freePort();
    const start = () => scope.startServer({ storeUrl: `sqlite:${dbFile}`, env: { FAULT_DELAY_MS: String(p.delayMs) }, port });
    let server = await start();
    const phones = scope.track(await connectPhones(p.phones, { port, botName: 'fault-bot', reconnectDelaysMs: p.reconnectDelaysMs }));
    const stop = drive(phones, p.ratePerPhone);
    const kills: KillSnapshot[] = [];
    const downtime: number[] = [];
    const reconnectMs: number[] = [];
    const connectionsBefore = () => phones.reduce((n, ph) => n + ph.connections, 0);
    try {
      for (let k = 0; k < p.kills; k += 1) {
        await sleep(p.runMs[0] + Math.random() * (p.runMs[1] - p.runMs[0]));
        const at = performance.now();
        server.signal('SIGKILL');
        await server.exit;
        const diedAt = performance.now();
        const rows = readStore(dbFile).journal;
        kills.push({ at, diedAt, rows });
        scope.log(`kill ${k + 1}: ${phones.reduce((n, ph) => n + ph.sent.length, 0)} sent so far, ${rows.filter((r) => r.state === 'admitted').length} journal rows pending`);
        const connections = connectionsBefore();
        server = await start();
        downtime.push(Math.round(performance.now() - at));
        // Every phone back (the reconnect loop), bounded: a phone that cannot come back is a finding.
        const back = await waitFor(() => connectionsBefore() >= connections + p.phones && phones.every((ph) => ph.connected), p.backBoundMs ?? 30_000);
        reconnectMs.push(back ? Math.round(performance.now() - at) : -1);
      }
      await sleep(p.finalRunMs);
    } finally {
      stop();
    }
    // Drain: the journal has nothing pending and every phone got what it is going to get.
    const drained = await waitFor(() => pendingCount(dbFile) === 0, p.replayBoundMs);
    await sleep(2_000);
    const counters = await server.metrics();
    const exit = await server.terminate(30_000);
    const store = readStore(dbFile);
    const check = checkExactlyOnce({ sent: phones.flatMap((ph) => ph.sent), received: phones.flatMap((ph) => ph.received), journal: store.journal, chatLogged: store.chatLogged, kills });

    const failures: string[] = [];
    expect(failures, check.lostJournaled === 0, `journaled (committed) messages never answered: ${check.lostJournaled} (${check.examples.lostJournaled.slice(0, 3).join(', ')})`);
    expect(failures, check.unexplainedDuplicates === 0, `duplicates outside a kill's done-mark window: ${check.unexplainedDuplicates} (${check.examples.unexplainedDuplicates.slice(0, 3).join(', ')})`);
    expect(failures, check.orderViolations === 0, `room order violations: ${check.orderViolations} in ${check.orderViolatingRooms} rooms, ${check.orderViolationsAcrossReconnect} of them a line sent after the reconnect answered before a replayed one (${check.orderExamples.slice(0, 3).join(', ')})`);
    expect(failures, check.unknownReplies === 0, `replies naming no message sent: ${check.unknownReplies}`);
    expect(failures, drained, `journal rows still 'admitted' ${p.replayBoundMs} ms after the last restart: ${pendingCount(dbFile)}`);
    expect(failures, reconnectMs.every((ms) => ms >= 0), `phones not all back within ${(p.backBoundMs ?? 30_000) / 1000} s of a restart (kills: ${reconnectMs.join(', ')})`);
    expect(failures, exit.code === 0 && !exit.forced, `final graceful stop: exit ${exit.code ?? exit.signal}`);
    return {
      failures,
      params: { ...p },
      figures: {
        sent: check.sent,
        admitted: check.admitted,
        answered: check.answered,
        lostJournaled: check.lostJournaled,
        windowLost: check.lostUnjournaled,
        unreadAtKills: check.unread,
        duplicates: check.duplicates,
        windowDuplicates: check.perKill.reduce((n, k) => n + k.windowDuplicates, 0),
        unexplainedDuplicates: check.unexplainedDuplicates,
        orderViolations: check.orderViolations,
        orderViolatingRooms: check.orderViolatingRooms,
        orderViolationsAcrossReconnect: check.orderViolationsAcrossReconnect,
        orderExamples: check.orderExamples,
        crossDeviceReplies: check.crossDevice,
        perKill: check.perKill.map((k, i) => ({ ...k, killAt: Math.round(kills[i]!.at), downtimeMs: downtime[i], allPhonesBackMs: reconnectMs[i] })),
        notSentWhileDisconnected: phones.reduce((n, ph) => n + ph.skipped, 0),
        chatLog: { receivedRows: store.chatLogged.size, replyRows: [...store.replyRows.values()].reduce((a, b) => a + b, 0) },
        examples: check.examples,
        exit,
        counters: interestingCounters(counters),
      },
    };
  });
}
