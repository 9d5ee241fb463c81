import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../bench/src/generator/bench-connection.js';
import type { Percentiles } from '../../bench/src/generator/samples.js';
import { fullPlan, quickPlan } from '../../bench/src/plan.js';
import { renderDocs } from '../../bench/src/report/render-docs.js';
import type { BenchResults, LoadFigures } from '../../bench/src/report/results-types.js';
import { evaluateTargets } from '../../bench/src/report/targets.js';
import { protocolCost } from '../../bench/src/scenarios/protocol-scenario.js';

/** Issue 12: v3.3 ÷ v3.2 figures, the "Protocol v3.2 vs v3.3" section and its target line; older results files lack the field. */

const latency = (p50: number, p99: number): Percentiles => ({ count: 1000, mean: p50, p50, p90: p50 * 2, p99, p999: p99, max: p99 });

function figures(perRound: number[], serverCpu: number, p50: number, p99: number, chatLog: LoadFigures['chatLog'] = { due: 1000, written: 1000, dropped: 0 }): LoadFigures {
  const repliesPerSec = perRound.reduce((a, b) => a + b, 0) / perRound.length;
  return {
    repliesPerSec,
    perRound,
    sentPerSec: repliesPerSec,
    latency: latency(p50, p99),
    sendLag: null,
    counts: emptyCounts(),
    handshakeFailures: 0,
    generatorCpu: 0.3,
    serverCpu,
    otherCpu: 0.1,
    chatLog,
  };
}

/** A results file as written before the protocols scenario existed: no `protocolCost` key. */
const older: BenchResults = {
  schema: 1,
  mode: 'quick',
  machine: { cpuModel: 'test cpu', cores: 2, totalMemoryMiB: 4096, os: 'linux', node: 'v20', date: '2026-12-05T00:00:00.000Z' },
  revision: 'abc1234',
  failures: [],
  plan: { ...quickPlan },
  serverProcesses: { kinds: ['echo', 'botbridge'], note: '' },
  closedLoop: [],
  openLoop: [],
  idle: null,
  churn: null,
  mariadb: { status: 'not-run', reason: 'not selected (--only)' },
  profiles: [],
  machineLoad: { busyBeforeRuns: [0.1], waitedMs: 0 },
  elapsedMs: 60_000,
};

const render = (results: BenchResults) => renderDocs({ results, resultsPath: '../bench/results/x.json', chartPaths: {}, analysis: null });
const TARGET = 'v3.3 costs at most 15% more server CPU per reply than v3.2';
const protocolRow = (results: BenchResults) => evaluateTargets(results).find((t) => t.target === TARGET);

describe('protocol cost report', () => {
  // v3.2: 4,000 replies/s on 1.0 core = 250 µs per reply; v3.3: 3,600 on 0.99 = 275 µs (×1.10).
  const within = protocolCost(100, 1, 3, figures([4_100, 3_900, 4_000], 1.0, 20, 100), figures([3_500, 3_700, 3_600], 0.99, 22, 120));

  it('plans 100 connections, window 1: one round quick, three full', () => {
    expect(quickPlan.protocolCost).toEqual({ connections: 100, window: 1, rounds: 1 });
    expect(fullPlan.protocolCost).toEqual({ connections: 100, window: 1, rounds: 3 });
  });

  it('computes v3.3 ÷ v3.2 for CPU per reply, replies/s and latency', () => {
    expect(within.ratio.cpuPerReply).toBeCloseTo(1.1, 10);
    expect(within.ratio.throughput).toBeCloseTo(0.9, 10);
    expect(within.ratio.p50).toBeCloseTo(1.1, 10);
    expect(within.ratio.p99).toBeCloseTo(1.2, 10);
    expect(within).toMatchObject({ connections: 100, window: 1, rounds: 3 });
  });

  it('renders an older results file without the section or the target line', () => {
    const page = render(older);
    expect(page).not.toContain('## Protocol v3.2 vs v3.3');
    expect(page).not.toContain(TARGET);
    expect(protocolRow(older)).toBeUndefined();
  });

  it('renders the section with both lines and a met target within 15%', () => {
    const results: BenchResults = { ...older, protocolCost: within };
    const page = render(results);
    expect(page).toContain('## Protocol v3.2 vs v3.3');
    expect(page).toContain('closed loop, 100 connections, 1 request(s) in flight each');
    expect(page).toContain('3 round(s), alternating which goes first, a fresh server each run');
    expect(page).toContain('| v3.2 | 4,000 (4,100, 3,900, 4,000) | 20.0 / 40.0 / 100.0 / 100.0 / 100.0 | none | 1,000 / 1,000 (100.0%) | 1.00 | 250 µs |');
    expect(page).toContain('| v3.3 | 3,600 (3,500, 3,700, 3,600) | 22.0 / 44.0 / 120.0 / 120.0 / 120.0 | none | 1,000 / 1,000 (100.0%) | 0.99 | 275 µs |');
    expect(page).toContain('| **v3.3 ÷ v3.2** | **×0.90** | p50 ×1.10, p99 ×1.20 | | | | **×1.10** | | |');
    expect(page).toContain('Server CPU per reply +25.0 µs on v3.3 (×1.10; the target allows ×1.15); the per-round values');
    const row = protocolRow(results)!;
    expect(row).toMatchObject({ met: true, shortfall: null });
    expect(row.measured).toBe('100 connections, closed loop: 275 vs 250 µs = ×1.10; replies/s ×0.90, p99 ×1.20');
    expect(page).toContain(`| ${TARGET} | ${row.measured} | yes |`);
  });

  it('misses the target beyond 15% more CPU per reply', () => {
    // 300 µs against 250 µs: ×1.20.
    const over = protocolCost(100, 1, 1, figures([4_000], 1.0, 20, 100), figures([3_000], 0.9, 25, 130));
    const row = protocolRow({ ...older, protocolCost: over })!;
    expect(row.met).toBe(false);
    expect(row.shortfall).toBe('×1.20 instead of ≤ ×1.15');
    const page = render({ ...older, protocolCost: over });
    expect(page).toContain(`| ${TARGET} | ${row.measured} — **×1.20 instead of ≤ ×1.15** | **no** |`);
    expect(page).toContain('one round only, so the spread between runs is not known');
  });

  it('voids a met ratio when either line lost chat-log rows', () => {
    const lossy = protocolCost(100, 1, 1, figures([4_000], 1.0, 20, 100), figures([4_000], 1.0, 20, 100, { due: 1000, written: 900, dropped: 100 }));
    expect(lossy.ratio.cpuPerReply).toBeCloseTo(1, 10);
    const row = protocolRow({ ...older, protocolCost: lossy })!;
    expect(row.met).toBe(false);
    expect(row.shortfall).toContain('INVALID: 100 chat-log rows lost');
    expect(render({ ...older, protocolCost: lossy })).toContain('**INVALID: 100 rows lost**');
  });

  it('reports "not run" when the scenario was not selected or failed', () => {
    const notRun: BenchResults = { ...older, protocolCost: null };
    expect(protocolRow(notRun)).toMatchObject({ measured: 'not run', met: null });
    expect(render(notRun)).not.toContain('## Protocol v3.2 vs v3.3');
  });
});
