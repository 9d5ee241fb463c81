import { join } from 'node:path';
import { concatSamples, percentiles } from '../generator/samples.js';
import { emptyCounts, type LoadCounts } from '../generator/bench-connection.js';
import { split, withWorkers } from '../generator/generator-pool.js';
import type { ConnectedMessage, LoadResultMessage, LoadTask } from '../generator/messages.js';
import { generatorWorkers } from '../plan.js';
import type { ServerKind } from '../servers/server-process.js';
import type { LoadFigures } from '../report/results-types.js';
import { at, cpuTimes, type BenchContext } from './bench-context.js';
import { cpus } from 'node:os';

export interface LoadSpec {
  readonly label: string;
  readonly mode: 'closed' | 'open';
  readonly connections: number;
  readonly window: number;
  /** Open loop: total requests per second. */
  readonly ratePerSec: number;
  readonly storeUrl?: string;
  /** Runs before each botbridge start (e.g. recreate the MariaDB bench database). */
  readonly prepareStore?: () => Promise<void>;
  readonly cpuProfile?: boolean;
  /** botbridge's config file (absolute path); the server's default (the Domaeka bench config) otherwise. */
  readonly configFile?: string;
}

/** One server's run of a load scenario, before rounds are pooled. */
export interface LoadRun {
  readonly repliesPerSec: number;
  readonly sentPerSec: number;
  readonly latencies: Float64Array;
  readonly sendLag: Float64Array;
  readonly counts: LoadCounts;
  readonly handshakeFailures: number;
  readonly generatorCpu: number;
  readonly serverCpu: number;
  /** CPU (cores) used on the machine in the window by everything but the server and the generator. */
  readonly otherCpu: number;
  /** The `.cpuprofile` of the measured window, when spec.cpuProfile. */
  readonly profileFile: string | null;
}

const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;

/**
 * Starts a fresh server, connects the generator workers, runs warm-up then the measured window
 * (the same wall-clock window for every worker), and stops the server. The server's CPU time is
 * read at the window's edges.
 */
export async function runLoad(ctx: BenchContext, kind: ServerKind, spec: LoadSpec): Promise<LoadRun> {
  const { plan } = ctx;
  const workers = generatorWorkers(spec.connections);
  const connectConcurrency = 100;
  if (kind === 'botbridge') await spec.prepareStore?.();
  const { server, dir } = await ctx.startServer(kind, spec.label, {
    maxConnections: spec.connections + 100,
    maxHandshaking: connectConcurrency * workers + 50,
    storeUrl: spec.storeUrl,
    configFile: spec.configFile,
  });
  const profileFile = spec.cpuProfile ? join(dir, 'window.cpuprofile') : null;
  try {
    const tasks: LoadTask[] = split(spec.connections, workers).map(({ first, count }) => ({
      type: 'load',
      port: server.port,
      mode: spec.mode,
      first,
      count,
      window: spec.window,
      ratePerSec: (spec.ratePerSec * count) / spec.connections,
      connectConcurrency,
      timeoutMs: plan.timeoutMs,
      drainMs: plan.drainMs,
    }));
    return await withWorkers(tasks, async (gens) => {
      const connected = await Promise.all(gens.map((g) => g.next<ConnectedMessage>('connected', 120_000)));
      const handshakeFailures = connected.reduce((n, c) => n + c.failures, 0);
      const notApproved = connected.reduce((n, c) => n + c.notApproved, 0);
      if (notApproved > 0) throw new Error(`${kind}: ${notApproved} devices not approved (autoApprove off, or a store error: see ${dir}/server.log)`);
      if (handshakeFailures > 0) {
        const first = connected.find((c) => c.firstFailure)?.firstFailure;
        // A load run measures replies; connections that never handshake mean a broken setup, not a result.
        throw new Error(`${kind}: ${handshakeFailures} of ${spec.connections} handshakes failed (${first}); see ${dir}/server.log`);
      }
      const loadStart = Date.now() + 300;
      const measureStart = loadStart + plan.warmupMs;
      const measureEnd = measureStart + plan.durationMs;
      await Promise.all(gens.map((g) => g.send({ type: 'go', loadStartEpoch: loadStart, measureStartEpoch: measureStart, measureEndEpoch: measureEnd })));
      let machineStart: ReturnType<typeof cpuTimes> = null;
      let machineEnd: ReturnType<typeof cpuTimes> = null;
      const cpuStart = at(measureStart, async () => {
        machineStart = cpuTimes();
        if (profileFile) await server.startProfile();
        return server.stats();
      });
      const cpuEnd = at(measureEnd, async () => {
        machineEnd = cpuTimes();
        const stats = await server.stats();
        if (profileFile) await server.stopProfile(profileFile);
        return stats;
      });
      const results = await Promise.all(
        gens.map((g) => g.next<LoadResultMessage>('load-result', plan.warmupMs + plan.durationMs + plan.drainMs + 60_000)),
      );
      const [s0, s1] = await Promise.all([cpuStart, cpuEnd]);
      const windowSec = plan.durationMs / 1000;
      const counts = sumCounts(results.map((r) => r.counts));
      const generatorCpu = results.reduce((n, r) => n + r.cpuMicros / 1000 / r.windowMs, 0);
      const serverCpu = (cpuMicros(s1.cpu) - cpuMicros(s0.cpu)) / 1000 / plan.durationMs;
      const a = machineStart as ReturnType<typeof cpuTimes>;
      const b = machineEnd as ReturnType<typeof cpuTimes>;
      const machineCores = a && b ? ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * cpus().length : Number.NaN;
      return {
        repliesPerSec: counts.repliesInWindow / windowSec,
        sentPerSec: counts.sentInWindow / windowSec,
        latencies: concatSamples(results.map((r) => r.latencies)),
        sendLag: concatSamples(results.map((r) => r.sendLag)),
        counts,
        handshakeFailures,
        generatorCpu,
        serverCpu,
        otherCpu: Math.max(0, machineCores - generatorCpu - serverCpu),
        profileFile,
      };
    });
  } finally {
    await server.stop();
  }
}

export function sumCounts(all: readonly LoadCounts[]): LoadCounts {
  const total = emptyCounts();
  for (const counts of all) for (const key of Object.keys(total) as (keyof LoadCounts)[]) total[key] += counts[key];
  return total;
}

/** Pools the rounds of one server: mean throughput, percentiles over every sample. */
export function poolRuns(runs: readonly LoadRun[]): LoadFigures {
  const mean = (f: (r: LoadRun) => number) => runs.reduce((n, r) => n + f(r), 0) / runs.length;
  const lag = concatSamples(runs.map((r) => r.sendLag));
  return {
    repliesPerSec: mean((r) => r.repliesPerSec),
    perRound: runs.map((r) => r.repliesPerSec),
    sentPerSec: mean((r) => r.sentPerSec),
    latency: percentiles(concatSamples(runs.map((r) => r.latencies))),
    sendLag: lag.length > 0 ? percentiles(lag) : null,
    counts: sumCounts(runs.map((r) => r.counts)),
    handshakeFailures: runs.reduce((n, r) => n + r.handshakeFailures, 0),
    generatorCpu: mean((r) => r.generatorCpu),
    serverCpu: mean((r) => r.serverCpu),
    otherCpu: mean((r) => r.otherCpu),
  };
}
