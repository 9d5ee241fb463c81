import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { percentiles } from '../src/generator/samples.js';
import { quickPlan } from '../src/plan.js';
import { BenchContext } from '../src/scenarios/bench-context.js';
import { churnRun } from '../src/scenarios/churn-scenario.js';
import { idleRun } from '../src/scenarios/idle-scenario.js';
import { runLoad, type LoadRun } from '../src/scenarios/load-run.js';

/**
 * A/B of botbridge checkouts in one invocation, alternating which goes first each round, so a
 * shared machine's drift hits every variant alike. Each variant is a checkout directory with its
 * own node_modules (`git archive <rev> | tar -x -C DIR` and a copy of node_modules); its
 * bench/src/servers/bridge-server.ts and bench/configs/domaeka.config.ts are used.
 *   node --import tsx bench/micro/ab.ts --rounds 4 --scenario closed base=/tmp/base perf=.
 * Reports per run and the median per variant: replies/s and server CPU per reply (closed loop,
 * 100 connections, SQLite), cycles/s (churn: connect, handshake, disconnect), or handshakes/s
 * (idle: --connections new devices connecting, 200 at a time, then held 2 s).
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '4' },
    scenario: { type: 'string', default: 'closed' },
    connections: { type: 'string', default: '100' },
    duration: { type: 'string', default: '3000' },
    cycles: { type: 'string', default: '3000' },
    /** Profile each run instead (closed loop or churn) and keep the .cpuprofile files: printed paths. */
    profile: { type: 'boolean', default: false },
  },
});
const variants = positionals.map((arg) => {
  const [name, dir] = arg.split('=') as [string, string];
  return { name, dir: resolve(dir) };
});
const rounds = Number(values.rounds);
const plan = {
  ...quickPlan,
  durationMs: Number(values.duration),
  idle: { ...quickPlan.idle, connections: Number(values.connections), holdMs: 2_000, connectConcurrency: 200 },
  churn: { ...quickPlan.churn, cycles: Number(values.cycles), checkpointEvery: Number(values.cycles) } };
const workDir = mkdtempSync(join(tmpdir(), 'botbridge-ab-'));
const ctx = new BenchContext(plan, workDir);
const results = new Map<string, number[][]>(variants.map((v) => [v.name, []]));
/** Profiles are copied out of the scratch directory (removed at the end). */
function keep(file: string, name: string, round: number): string {
  const to = join(tmpdir(), `ab-${values.scenario}-${name}-r${round + 1}.cpuprofile`);
  copyFileSync(file, to);
  return to;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

try {
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      process.env.BENCH_BRIDGE_ENTRY = join(v.dir, 'bench/src/servers/bridge-server.ts');
      process.env.BENCH_CONFIG = join(v.dir, 'bench/configs/domaeka.config.ts');
      if (values.scenario === 'idle') {
        // New devices connecting (each handshake registers its device): handshakes/s.
        const profileFile = values.profile ? join(tmpdir(), `ab-idle-${v.name}-r${round + 1}.cpuprofile`) : undefined;
        const f = await idleRun(ctx, 'botbridge', 10_000, profileFile);
        if (profileFile) ctx.log(`  profile ${profileFile}`);
        results.get(v.name)!.push([f.handshakesPerSec]);
        ctx.log(`${v.name} r${round + 1}: ${Math.round(f.handshakesPerSec)} handshakes/s, failures ${f.failures}`);
      } else if (values.scenario === 'churn') {
        const f = await churnRun(ctx, 'botbridge', { cycles: plan.churn.cycles, checkpointEvery: plan.churn.checkpointEvery, cpuProfile: values.profile });
        if (f.profileFile) ctx.log(`  profile ${keep(f.profileFile, v.name, round)}`);
        results.get(v.name)!.push([f.cyclesPerSec]);
        ctx.log(`${v.name} r${round + 1}: ${Math.round(f.cyclesPerSec)} cycles/s, failures ${f.failures}`);
      } else {
        const run: LoadRun = await runLoad(ctx, 'botbridge', {
          label: `ab-${v.name}`, mode: 'closed', connections: Number(values.connections), window: 1, ratePerSec: 0, cpuProfile: values.profile,
        });
        if (run.profileFile) ctx.log(`  profile ${keep(run.profileFile, v.name, round)}`);
        const cpuPerReply = (run.serverCpu / run.repliesPerSec) * 1e6;
        const p99 = percentiles(run.latencies).p99;
        results.get(v.name)!.push([run.repliesPerSec, cpuPerReply, run.otherCpu, p99]);
        ctx.log(`${v.name} r${round + 1}: ${Math.round(run.repliesPerSec)} replies/s, p99 ${p99.toFixed(1)} ms, server ${run.serverCpu.toFixed(2)} cores, ${cpuPerReply.toFixed(0)} µs CPU/reply, others ${run.otherCpu.toFixed(2)}`);
      }
    }
  }
  for (const [name, runs] of results) {
    const cols = runs[0]!.map((_, i) => median(runs.map((r) => r[i]!)));
    process.stdout.write(values.scenario !== 'closed'
      ? `${name}: median ${Math.round(cols[0]!)} ${values.scenario === 'idle' ? 'handshakes' : 'cycles'}/s over ${runs.length} runs\n`
      : `${name}: median ${Math.round(cols[0]!)} replies/s, p99 ${cols[3]!.toFixed(1)} ms, ${cols[1]!.toFixed(0)} µs server CPU/reply (others ${cols[2]!.toFixed(2)} cores) over ${runs.length} runs\n`);
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
