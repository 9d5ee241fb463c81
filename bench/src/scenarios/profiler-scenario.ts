import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { EventGuardCost, LoadFigures, ProfilerCost } from '../report/results-types.js';
import type { BenchContext } from './bench-context.js';
import { describeRun } from './load-scenarios.js';
import { poolRuns, runLoad, type LoadRun, type LoadSpec } from './load-run.js';

const ROOT = resolve(import.meta.dirname, '../../..');
export const PROFILER_CONFIGS = {
  disabled: join(ROOT, 'bench/configs/domaeka.config.ts'),
  enabled: join(ROOT, 'bench/configs/domaeka-profiler.config.ts'),
} as const;
const GUARDS_MICRO = join(ROOT, 'bench/micro/event-guards.ts');

type Variant = keyof typeof PROFILER_CONFIGS;

/**
 * What the profiler plugin costs. Closed loop at `connections` (SQLite, chat log on, as the
 * closed-loop scenario runs botbridge), the Domaeka config without (a) and with (b) the profiler,
 * `rounds` times, alternating which goes first. Then the event-guard micro-benchmark in a child
 * process: the cost per message of the core's `events.active()` checks with nobody subscribed,
 * which is all (a) pays for the profiler existing. A failed micro-benchmark is reported through
 * `onFailure` and leaves `guards` null; the load figures are kept.
 */
export async function profilerCostScenario(ctx: BenchContext, onFailure: (reason: string) => void): Promise<ProfilerCost> {
  const { connections, rounds, guardMessages, guardRepeats } = ctx.plan.profilerCost;
  ctx.log(`profiler: closed loop, ${connections} connections, Domaeka config without and with the profiler plugin, ${rounds} round(s)`);
  const runs: Record<Variant, LoadRun[]> = { disabled: [], enabled: [] };
  for (let round = 0; round < rounds; round += 1) {
    const order: Variant[] = round % 2 === 0 ? ['disabled', 'enabled'] : ['enabled', 'disabled'];
    for (const variant of order) {
      const spec: LoadSpec = {
        label: `profiler-${variant}`, mode: 'closed', connections, window: ctx.plan.closedLoop.window, ratePerSec: 0, configFile: PROFILER_CONFIGS[variant],
      };
      const run = await runLoad(ctx, 'botbridge', spec);
      runs[variant].push(run);
      ctx.log(`  profiler ${variant} r${round + 1}: ${describeRun(run)}, ${usPerReplyOf(run).toFixed(0)} µs CPU per reply`);
    }
  }
  const disabled = poolRuns(runs.disabled);
  const enabled = poolRuns(runs.enabled);
  let guards: EventGuardCost | null = null;
  try {
    guards = await eventGuards(ctx, connections, guardMessages, guardRepeats);
  } catch (error) {
    const reason = `event-guard micro-benchmark: ${(error as Error).message.split('\n')[0]}`;
    ctx.log(`  ${reason}`);
    onFailure(reason);
  }
  const result = profilerCost(connections, rounds, disabled, enabled, guards);
  ctx.log(
    `  profiler enabled ÷ disabled: replies/s ×${result.ratio.throughput.toFixed(3)}, CPU per reply ×${result.ratio.cpuPerReply.toFixed(3)}` +
      (guards ? `; fast path ${(guards.publishesPerMessage ?? 0).toFixed(1)} publishes + ${guards.checksPerMessage.toFixed(1)} checks, ${guards.nsPerMessage.toFixed(0)} ns per message` : ''),
  );
  return result;
}

const usPerReplyOf = (f: { serverCpu: number; repliesPerSec: number }) => (f.repliesPerSec > 0 ? (f.serverCpu * 1e6) / f.repliesPerSec : Number.NaN);

/** Pure: the pooled figures and (b) ÷ (a). */
export function profilerCost(connections: number, rounds: number, disabled: LoadFigures, enabled: LoadFigures, guards: EventGuardCost | null): ProfilerCost {
  return {
    connections,
    rounds,
    configs: { disabled: relative(ROOT, PROFILER_CONFIGS.disabled), enabled: relative(ROOT, PROFILER_CONFIGS.enabled) },
    disabled,
    enabled,
    ratio: {
      throughput: enabled.repliesPerSec / disabled.repliesPerSec,
      p50: enabled.latency.p50 / disabled.latency.p50,
      p99: enabled.latency.p99 / disabled.latency.p99,
      cpuPerReply: usPerReplyOf(enabled) / usPerReplyOf(disabled),
    },
    guards,
  };
}

/** Runs bench/micro/event-guards.ts in a child (its own bridge, store and JIT state) and reads its JSON. */
async function eventGuards(ctx: BenchContext, connections: number, messages: number, repeats: number): Promise<EventGuardCost> {
  await ctx.waitForQuiet();
  const out = join(ctx.workDir, 'event-guards.json');
  const logFile = join(ctx.workDir, 'event-guards.log');
  ctx.log(`  event fast path: ${messages} # echo messages counted over ${connections} connections, publishes and checks replayed ${repeats} times (log ${logFile})`);
  const log = openSync(logFile, 'a');
  const args = ['--import', 'tsx', GUARDS_MICRO, '--connections', String(connections), '--messages', String(messages), '--repeats', String(repeats), '--config', PROFILER_CONFIGS.disabled, '--out', out];
  try {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, BENCH_STORE_URL: `sqlite:${join(ctx.workDir, 'event-guards.db')}` },
      stdio: ['ignore', log, log],
    });
    const code = await new Promise<number | null>((resolveExit, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.once('error', reject);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolveExit(exitCode);
      });
    });
    if (code !== 0) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
      throw new Error(`exited with ${code}: ${tail}`);
    }
  } finally {
    closeSync(log);
  }
  return JSON.parse(readFileSync(out, 'utf8')) as EventGuardCost;
}
