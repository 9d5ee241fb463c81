import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fullPlan, quickPlan } from '../../src/plan.js';
import { BenchContext } from '../../src/scenarios/bench-context.js';
import { nothingLostScenario } from '../../src/scenarios/nothing-lost-scenario.js';
import { expect, runScenario, type RunOptions, type ScenarioResult } from '../scenario.js';

/**
 * Issue 11's chat-log completeness run, reused from the benchmark (`npm run bench -- --only
 * lost`, bench/src/scenarios/nothing-lost-scenario.ts): 100 connections, closed loop, 60 s, on
 * SQLite and on MariaDB, `botbridge start`'s server with the chat log on. Here it becomes a
 * verdict: rows written = 2 × messages, 0 dropped, no phone closed or timed out, on each store.
 */
export function lostScenario(options: RunOptions): Promise<ScenarioResult> {
  return runScenario('lost', options, null, async (scope) => {
    const plan = options.quick ? quickPlan : fullPlan;
    const workDir = join(scope.dir, 'bench');
    mkdirSync(workDir, { recursive: true });
    const ctx = new BenchContext(plan, workDir, (line) => scope.log(line));
    const runs = await nothingLostScenario(ctx);
    const failures: string[] = [];
    expect(failures, runs.some((r) => r.store === 'sqlite'), 'the SQLite run did not happen');
    expect(failures, runs.some((r) => r.store === 'mariadb'), `the MariaDB run did not happen (${plan.mariadb.url} not reachable?)`);
    for (const run of runs) {
      const f = run.botbridge;
      const chat = f.chatLog;
      expect(failures, chat !== null && chat !== undefined, `${run.store}: chat-log rows not counted`);
      if (chat) {
        expect(failures, chat.written === chat.due, `${run.store}: chat-log rows ${chat.written} of ${chat.due} due (${chat.due - chat.written} missing)`);
        expect(failures, chat.dropped === 0, `${run.store}: ${chat.dropped} rows counted dropped`);
      }
      expect(failures, f.counts.closedByServer === 0, `${run.store}: ${f.counts.closedByServer} connections closed by the server`);
      expect(failures, f.counts.timeouts === 0 && f.counts.duplicates === 0 && f.counts.orderViolations === 0,
        `${run.store}: ${f.counts.timeouts} timeouts, ${f.counts.duplicates} duplicates, ${f.counts.orderViolations} order violations`);
    }
    return {
      failures,
      params: { ...plan.nothingLost, mariadb: plan.mariadb.url },
      figures: Object.fromEntries(runs.map((r) => [r.store, {
        repliesPerSec: Math.round(r.botbridge.repliesPerSec),
        usCpuPerReply: Math.round((r.botbridge.serverCpu * 1e6) / Math.max(1, r.botbridge.repliesPerSec)),
        latencyMs: r.botbridge.latency,
        chatLog: r.botbridge.chatLog ?? null,
        memory: r.botbridge.memory ?? null,
        counts: r.botbridge.counts,
        reference: r.reference,
      }])),
    };
  });
}
