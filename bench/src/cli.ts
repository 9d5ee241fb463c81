import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from './machine.js';
import { fullPlan, quickPlan, type BenchPlan } from './plan.js';
import { renderCharts } from './report/charts.js';
import { renderDocs } from './report/render-docs.js';
import { evaluateTargets } from './report/targets.js';
import type { BenchResults, LoadComparison } from './report/results-types.js';
import { BenchContext } from './scenarios/bench-context.js';
import { churnScenario } from './scenarios/churn-scenario.js';
import { idleScenario } from './scenarios/idle-scenario.js';
import { closedLoopScenarios, openLoopScenarios } from './scenarios/load-scenarios.js';
import { mariadbScenarios } from './scenarios/mariadb-scenarios.js';
import { profileScenarios } from './scenarios/profile-scenarios.js';
import { profilerCostScenario } from './scenarios/profiler-scenario.js';
import { protocolCostScenario } from './scenarios/protocol-scenario.js';
import { nothingLostScenario } from './scenarios/nothing-lost-scenario.js';

/**
 * `npm run bench` / `npm run bench:quick`.
 *   --quick            the scaled-down plan (under 2 minutes)
 *   --only a,b         scenarios: closed, open, idle, churn, mariadb, profile, profiler, protocols, lost
 *   --render FILE      re-render docs/benchmarks.md from an existing results JSON, run nothing
 *   --no-docs          write the JSON and charts but leave docs/benchmarks.md alone (full run)
 *   --docs             also render docs/benchmarks.md from a quick run (by default only a full
 *                      run does, so the page keeps showing full figures)
 *   --keep             keep the scratch directory (server logs, SQLite files, .cpuprofile)
 *   --lost-duration S  the "nothing lost" window in seconds (default: the plan's, 5 quick / 60 full)
 *   --lost-cooldown S  its cool-down in seconds (default: the plan's, 10 quick / 60 full)
 *   --lost-stores L    the "nothing lost" stores, e.g. sqlite (default sqlite,mariadb)
 *   --heap-snapshots   write heap snapshots of botbridge at idle, peak and after the cool-down
 *                      ("nothing lost" runs; implies --keep: they go to the scratch directory)
 */
const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS_DIR = join(ROOT, 'bench/results');
const DOCS_FILE = join(ROOT, 'docs/benchmarks.md');
const ANALYSIS_FILE = join(ROOT, 'bench/analysis.md');
const SCENARIOS = ['closed', 'open', 'idle', 'churn', 'mariadb', 'profile', 'profiler', 'protocols', 'lost'] as const;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    render: { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
    docs: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'lost-duration': { type: 'string' },
    'lost-cooldown': { type: 'string' },
    'heap-snapshots': { type: 'boolean', default: false },
    'lost-stores': { type: 'string' },
  },
});

function writeOutputs(results: BenchResults, stem: string, docs: boolean): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const jsonFile = join(RESULTS_DIR, `${stem}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 1)}\n`);
  const chartPaths: Record<string, string> = {};
  for (const [name, svg] of Object.entries(renderCharts(results))) {
    const file = join(RESULTS_DIR, `${stem}-${name}`);
    writeFileSync(file, svg);
    chartPaths[name] = relative(join(ROOT, 'docs'), file);
  }
  process.stderr.write(`results: ${relative(ROOT, jsonFile)}\n`);
  if (!docs) return;
  const analysis = existsSync(ANALYSIS_FILE) ? readFileSync(ANALYSIS_FILE, 'utf8') : null;
  writeFileSync(DOCS_FILE, renderDocs({ results, resultsPath: relative(join(ROOT, 'docs'), jsonFile), chartPaths, analysis }));
  process.stderr.write(`docs: ${relative(ROOT, DOCS_FILE)}\n`);
}

/** The code measured: HEAD, and whether core/sdk/plugins had uncommitted changes (BENCH_REVISION overrides). */
function revision(): string {
  if (process.env.BENCH_REVISION) return process.env.BENCH_REVISION;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'core', 'sdk', 'plugins'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty === '' ? head : `${head} + uncommitted changes`;
  } catch {
    return 'unknown';
  }
}

/** A failing scenario (e.g. a core file mid-edit) is recorded and the rest still runs. */
async function attempt<T>(ctx: BenchContext, name: string, fn: () => Promise<T>, failures: string[]): Promise<T | null> {
  try {
    return await fn();
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]!;
    ctx.log(`${name} FAILED: ${reason}`);
    failures.push(`${name}: ${reason}`);
    return null;
  }
}

async function run(plan: BenchPlan, only: ReadonlySet<string>): Promise<BenchResults> {
  const started = new Date();
  const workDir = mkdtempSync(join(tmpdir(), 'botbridge-bench-'));
  const ctx = new BenchContext(plan, workDir);
  ctx.log(`${plan.mode} run, scratch ${workDir}`);
  const failures: string[] = [];
  try {
    // First: the runs that decide whether botbridge loses anything, before the machine heats up.
    const nothingLost = only.has('lost') ? await attempt(ctx, 'nothing lost', () => nothingLostScenario(ctx), failures) : null;
    const closedLoop = only.has('closed') || only.has('open') ? ((await attempt(ctx, 'closed loop', () => closedLoopScenarios(ctx, 'sqlite'), failures)) ?? []) : [];
    const reference = closedLoop.find((c) => c.connections === plan.openLoop.connections);
    const openLoop = only.has('open') && reference ? ((await attempt(ctx, 'open loop', () => openLoopScenarios(ctx, reference.botbridge.repliesPerSec), failures)) ?? []) : [];
    const idle = only.has('idle') ? await attempt(ctx, 'idle', () => idleScenario(ctx), failures) : null;
    const churn = only.has('churn') ? await attempt(ctx, 'churn', () => churnScenario(ctx), failures) : null;
    const mariadb = only.has('mariadb')
      ? ((await attempt(ctx, 'mariadb', () => mariadbScenarios(ctx), failures)) ?? { status: 'not-run' as const, reason: failures[failures.length - 1]! })
      : ({ status: 'not-run', reason: 'not selected (--only)' } as const);
    if (!Array.isArray(mariadb)) ctx.log(`mariadb: not run: ${(mariadb as { reason: string }).reason}`);
    const profiles = only.has('profile') ? ((await attempt(ctx, 'profile', () => profileScenarios(ctx), failures)) ?? []) : [];
    const profilerCost = only.has('profiler')
      ? await attempt(ctx, 'profiler', () => profilerCostScenario(ctx, (reason) => failures.push(`profiler: ${reason}`)), failures)
      : null;
    const protocolCost = only.has('protocols') ? await attempt(ctx, 'protocols', () => protocolCostScenario(ctx), failures) : null;
    return {
      schema: 1,
      mode: plan.mode,
      machine: machineInfo(started),
      revision: revision(),
      failures,
      plan: { ...plan },
      serverProcesses: { kinds: ['echo', 'botbridge'], note: 'one fresh server process per run; generator in separate processes' },
      closedLoop: only.has('closed') ? closedLoop : ([] as LoadComparison[]),
      openLoop,
      idle,
      churn,
      mariadb,
      profiles,
      profilerCost,
      protocolCost,
      nothingLost,
      machineLoad: ctx.quiet,
      elapsedMs: Date.now() - started.getTime(),
    };
  } finally {
    if (values.keep || values['heap-snapshots']) ctx.log(`kept ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

function seconds(flag: 'lost-duration' | 'lost-cooldown', fallbackMs: number): number {
  const raw = values[flag];
  if (raw === undefined) return fallbackMs;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} takes a positive number of seconds, not ${raw}`);
  return Math.round(n * 1000);
}

function withLostOverrides(plan: BenchPlan): BenchPlan {
  const lost = plan.nothingLost;
  return {
    ...plan,
    nothingLost: {
      ...lost,
      durationMs: seconds('lost-duration', lost.durationMs),
      cooldownMs: seconds('lost-cooldown', lost.cooldownMs),
      heapSnapshots: values['heap-snapshots'],
      ...(values['lost-stores'] ? { stores: values['lost-stores'].split(',').map((s) => s.trim()) as ('sqlite' | 'mariadb')[] } : {}),
    },
  };
}

if (values.render) {
  const results = JSON.parse(readFileSync(resolve(values.render), 'utf8')) as BenchResults;
  const stem = relative(RESULTS_DIR, resolve(values.render)).replace(/\.json$/, '');
  writeOutputs(results, stem, true);
} else {
  const plan = withLostOverrides(values.quick ? quickPlan : fullPlan);
  const only = new Set<string>(values.only ? values.only.split(',').map((s) => s.trim()) : SCENARIOS);
  for (const name of only) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`unknown scenario ${name}`);
  const results = await run(plan, only);
  const stem = `${results.machine.date.slice(0, 10)}-${plan.mode}`;
  writeOutputs(results, stem, plan.mode === 'full' ? !values['no-docs'] : values.docs);
  for (const t of evaluateTargets(results)) {
    const verdict = t.met === null ? 'not run' : t.met ? 'met' : 'MISSED';
    process.stderr.write(`${verdict.padEnd(7)} ${t.target}: ${t.measured}${t.shortfall ? ` (${t.shortfall})` : ''}\n`);
  }
}
