import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../bench/src/generator/bench-connection.js';
import type { Percentiles } from '../../bench/src/generator/samples.js';
import { quickPlan } from '../../bench/src/plan.js';
import { renderDocs } from '../../bench/src/report/render-docs.js';
import type { BenchResults, EventGuardCost, LoadFigures } from '../../bench/src/report/results-types.js';
import { evaluateTargets } from '../../bench/src/report/targets.js';
import { profilerCost } from '../../bench/src/scenarios/profiler-scenario.js';

/** The profiler-cost figures, the "Profiler cost" section and its target line; older results files lack the field. */

const latency = (p50: number, p99: number): Percentiles => ({ count: 1000, mean: p50, p50, p90: p50 * 2, p99, p999: p99, max: p99 });

function figures(repliesPerSec: number, serverCpu: number, p50: number, p99: number): LoadFigures {
  return {
    repliesPerSec,
    perRound: [repliesPerSec],
    sentPerSec: repliesPerSec,
    latency: latency(p50, p99),
    sendLag: null,
    counts: emptyCounts(),
    handshakeFailures: 0,
    generatorCpu: 0.2,
    serverCpu,
    otherCpu: 0.1,
  };
}

const guards: EventGuardCost = {
  messages: 1000,
  connections: 100,
  checksPerMessage: 8,
  checksByName: { 'message:admitted': 1, 'message:started': 2, 'message:finished': 1, 'plugin:handler': 2, 'reply:queued': 1, 'reply:sent': 1 },
  activeChecks: 0,
  repeats: 2000,
  nsPerCheck: 7,
  nsPerMessage: 56,
};

/** A results file as written before the profiler scenario existed: no `profilerCost` key. */
const older: BenchResults = {
  schema: 1,
  mode: 'quick',
  machine: { cpuModel: 'test cpu', cores: 2, totalMemoryMiB: 4096, os: 'linux', node: 'v20', date: '2026-11-22T00:00:00.000Z' },
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
const profilerRow = (results: BenchResults) => evaluateTargets(results).find((t) => t.target.startsWith('Profiler disabled: no measurable cost'));

describe('profiler cost report', () => {
  // (a) 4,000 replies/s on 1.0 core = 250 µs per reply; (b) 3,000 on 0.9 = 300 µs.
  const cost = profilerCost(100, 1, figures(4_000, 1.0, 20, 100), figures(3_000, 0.9, 30, 90), guards);

  it('computes (b) ÷ (a) for replies/s, latency and CPU per reply', () => {
    expect(cost.ratio.throughput).toBeCloseTo(0.75, 10);
    expect(cost.ratio.p50).toBeCloseTo(1.5, 10);
    expect(cost.ratio.p99).toBeCloseTo(0.9, 10);
    expect(cost.ratio.cpuPerReply).toBeCloseTo(1.2, 10);
    expect(cost.configs).toEqual({ disabled: 'bench/configs/domaeka.config.ts', enabled: 'bench/configs/domaeka-profiler.config.ts' });
  });

  it('renders an older results file without the section or the target line', () => {
    const page = render(older);
    expect(page).not.toContain('## Profiler cost');
    expect(page).not.toContain('Profiler disabled');
    expect(profilerRow(older)).toBeUndefined();
  });

  it('renders the section and a met target when the guards are far below CPU per reply', () => {
    const results: BenchResults = { ...older, profilerCost: cost };
    const page = render(results);
    expect(page).toContain('## Profiler cost');
    expect(page).toContain('| (a) not enabled | 4,000 |');
    expect(page).toContain('| (b) enabled | 3,000 |');
    expect(page).toContain('| **(b) ÷ (a)** | **×0.75** | p50 ×1.50, p99 ×0.90 | | | **×1.20** | | |');
    // 56 ns of 250 µs.
    expect(page).toContain('**7.0 ns per check, 56.0 ns per message**');
    expect(page).toContain('counted over 1,000 messages from 100 connections at once');
    expect(page).toContain('**0.02%** of the 250 µs');
    expect(page).toContain('server CPU per reply +50.0 µs (×1.20)');
    const row = profilerRow(results)!;
    expect(row.met).toBe(true);
    expect(row.measured).toContain('= 56 ns per message = 0.022% of 250 µs');
    expect(page).toContain(`| ${row.target} | ${row.measured} | yes |`);
  });

  it('renders publishes and checks apart when the micro-benchmark measured both (the extension table\'s fast path)', () => {
    const both: EventGuardCost = {
      ...guards,
      checksPerMessage: 3,
      checksByName: { 'message:started': 1, 'message:finished': 1, 'plugin:handler': 1 },
      publishesPerMessage: 5,
      publishesByName: { 'message:admitted': 1, 'message:routed': 1, 'reply:queued': 1, 'reply:sent': 1, 'plugin:handler': 1 },
      nsPerCheck: 4,
      nsPerPublish: 20,
      nsPerMessage: 112,
      standingSubscribers: ['reply:sent'],
    };
    const results: BenchResults = { ...older, profilerCost: { ...cost, guards: both } };
    const page = render(results);
    expect(page).toContain('makes **5.00** publishes (`message:admitted` 1, `message:routed` 1, `reply:queued` 1, `reply:sent` 1, `plugin:handler` 1) and **3.00** checks');
    expect(page).toContain('none of which found a subscriber (not counting `reply:sent`, which the config\'s plugins subscribe to throughout');
    expect(page).toContain('**20.0 ns per publish, 4.0 ns per check, 112 ns per message**');
    const row = profilerRow(results)!;
    expect(row.measured).toContain('5 publishes × 20.0 ns + 3 checks × 4.0 ns = 112 ns per message');
    expect(row.met).toBe(true);
  });

  it('fails the target when a guard finds a subscriber with the profiler off', () => {
    const results: BenchResults = { ...older, profilerCost: { ...cost, guards: { ...guards, activeChecks: 300 } } };
    const row = profilerRow(results)!;
    expect(row.met).toBe(false);
    expect(row.shortfall).toContain('300 checks or publishes found a subscriber');
    expect(render(results)).toContain('**300 of which found a subscriber**');
  });

  it('reports "not run" when the scenario was not selected and keeps the load figures when only the micro-benchmark failed', () => {
    const notRun: BenchResults = { ...older, profilerCost: null };
    expect(profilerRow(notRun)).toMatchObject({ measured: 'not run', met: null });
    expect(render(notRun)).not.toContain('## Profiler cost');
    const noGuards: BenchResults = { ...older, profilerCost: { ...cost, guards: null } };
    expect(profilerRow(noGuards)).toMatchObject({ met: null, shortfall: 'the event-guard micro-benchmark failed' });
    const page = render(noGuards);
    expect(page).toContain('## Profiler cost');
    expect(page).toContain('The event-guard micro-benchmark did not run');
  });
});
