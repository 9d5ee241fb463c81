import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../bench/src/generator/bench-connection.js';
import { quickPlan } from '../../bench/src/plan.js';
import { renderDocs } from '../../bench/src/report/render-docs.js';
import type { BenchResults, LoadComparison, LoadFigures, NothingLostRun } from '../../bench/src/report/results-types.js';
import { evaluateTargets } from '../../bench/src/report/targets.js';
import { chatLogComplete, chatLogDue, poolRuns, type LoadRun } from '../../bench/src/scenarios/load-run.js';

/** Issue 11: a run that lost chat-log rows is marked invalid; memory and completeness targets. */

const latency = { count: 1000, mean: 1, p50: 1, p90: 2, p99: 3, p999: 4, max: 5 };

function figures(extra: Partial<LoadFigures>): LoadFigures {
  return {
    repliesPerSec: 10_000,
    perRound: [10_000],
    sentPerSec: 10_000,
    latency,
    sendLag: null,
    counts: emptyCounts(),
    handshakeFailures: 0,
    generatorCpu: 0.5,
    serverCpu: 1,
    otherCpu: 0,
    ...extra,
  };
}

function comparison(botbridge: LoadFigures): LoadComparison {
  return {
    id: 'closed-sqlite-100', mode: 'closed', store: 'sqlite', connections: 100, window: 1, offeredRate: null, offeredFraction: null,
    echo: figures({ repliesPerSec: 20_000, serverCpu: 0.5 }),
    botbridge,
    ratio: { throughput: botbridge.repliesPerSec / 20_000, p50: 1, p99: 1 },
  };
}

function results(closed: LoadComparison[], nothingLost: NothingLostRun[] = []): BenchResults {
  return {
    schema: 1, mode: 'quick',
    machine: { cpuModel: 'cpu', cores: 2, totalMemoryMiB: 4096, os: 'linux', node: 'v20', date: '2026-12-06T00:00:00.000Z' },
    revision: 'abc', failures: [], plan: { ...quickPlan }, serverProcesses: { kinds: ['echo', 'botbridge'], note: '' },
    closedLoop: closed, openLoop: [], idle: null, churn: null, mariadb: { status: 'not-run', reason: 'x' }, profiles: [],
    nothingLost, machineLoad: { busyBeforeRuns: [], waitedMs: 0 }, elapsedMs: 1,
  };
}

const render = (r: BenchResults) => renderDocs({ results: r, resultsPath: '../bench/results/x.json', chartPaths: {}, analysis: null });

describe('chat-log completeness', () => {
  it('rows due are the admitted messages plus the replies written', () => {
    expect(chatLogDue({ 'messages{admitted}': 70, 'replies{written}': 68, 'messages{dispatched}': 70 })).toBe(138);
  });

  it('pools rounds by summing and is complete only with nothing dropped or missing', () => {
    const run = (due: number, written: number, dropped: number): LoadRun => ({
      repliesPerSec: 1, sentPerSec: 1, latencies: new Float64Array([1]), sendLag: new Float64Array(), counts: emptyCounts(),
      handshakeFailures: 0, generatorCpu: 0, serverCpu: 0, otherCpu: 0, profileFile: null, chatLog: { due, written, dropped }, memory: null,
    });
    const pooled = poolRuns([run(100, 100, 0), run(50, 40, 10)]);
    expect(pooled.chatLog).toEqual({ due: 150, written: 140, dropped: 10 });
    expect(chatLogComplete(pooled)).toBe(false);
    expect(chatLogComplete(poolRuns([run(100, 100, 0)]))).toBe(true);
  });

  it('marks a throughput figure bought with lost rows as INVALID, in the table and in the targets', () => {
    const lossy = comparison(figures({ chatLog: { due: 1000, written: 510, dropped: 490 } }));
    const page = render(results([lossy]));
    expect(page).toContain('510 / 1,000 (51.0%) — **INVALID: 490 rows lost**');
    const target = evaluateTargets(results([lossy])).find((t) => t.target.includes('≥ 50% of the echo'));
    expect(target?.met).toBe(false);
    expect(target?.shortfall).toContain('INVALID: 490 chat-log rows lost');
  });

  it('keeps a complete run valid and renders older results without the column as "not measured"', () => {
    const complete = comparison(figures({ chatLog: { due: 1000, written: 1000, dropped: 0 } }));
    expect(render(results([complete]))).toContain('1,000 / 1,000 (100.0%) |');
    expect(evaluateTargets(results([complete])).find((t) => t.target.includes('≥ 50% of the echo'))?.met).toBe(true);
    const older = comparison(figures({}));
    expect(render(results([older]))).toContain('| not measured |');
  });
});

describe('nothing-lost runs', () => {
  const run = (chatLog: LoadFigures['chatLog'], rss: [number, number, number]): NothingLostRun => ({
    id: 'lost-sqlite-100', store: 'sqlite', connections: 100, durationMs: 60_000,
    botbridge: figures({ chatLog, memory: { idleRssBytes: rss[0], peakRssBytes: rss[1], afterCooldownRssBytes: rss[2], cooldownMs: 60_000 } }),
    reference: { file: 'bench/results/2026-12-05-full.json', repliesPerSec: 6_720, usPerReply: 174 },
  });

  it('meets both targets with every row written and RSS bounded', () => {
    const checks = evaluateTargets(results([], [run({ due: 2000, written: 2000, dropped: 0 }, [100e6, 180e6, 105e6])]));
    expect(checks.filter((t) => t.target.startsWith('100 connections, SQLite, 60 s')).map((t) => t.met)).toEqual([true, true]);
    const page = render(results([], [run({ due: 2000, written: 2000, dropped: 0 }, [100e6, 180e6, 105e6])]));
    expect(page).toContain('## Nothing lost');
    expect(page).toContain('| 6,720 | 174 µs |');
  });

  it('misses them when rows were lost or memory stays high', () => {
    const checks = evaluateTargets(results([], [run({ due: 2000, written: 1990, dropped: 0 }, [100e6, 250e6, 130e6])]));
    const [rows, memory] = checks.filter((t) => t.target.startsWith('100 connections, SQLite, 60 s'));
    expect(rows).toMatchObject({ met: false, shortfall: '10 rows lost' });
    expect(memory).toMatchObject({ met: false, shortfall: 'peak ×2.50, after ×1.30' });
  });
});
