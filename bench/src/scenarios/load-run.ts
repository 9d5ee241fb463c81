import { join } from 'node:path';
import { concatSamples, percentiles } from '../generator/samples.js';
import { emptyCounts, type LoadCounts } from '../generator/bench-connection.js';
import { split, withWorkers } from '../generator/generator-pool.js';
import type { ConnectedMessage, LoadResultMessage, LoadTask } from '../generator/messages.js';
import { generatorWorkers } from '../plan.js';
import type { ServerKind } from '../servers/server-process.js';
import type { ServerStats } from '../servers/server-ipc.js';
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
  /**
   * Memory figures: RSS with the phones connected and idle before the load, its peak during the
   * load, and after this long a cool-down with the phones still connected and idle.
   */
  readonly cooldownMs?: number;
  /** Heap snapshots at idle, at the end of the window and after the cool-down, in the run's directory. */
  readonly heapSnapshots?: boolean;
  /** The measured window, overriding the plan's `durationMs`. */
  readonly durationMs?: number;
  /** Which script line every phone plays (protocol v3.2 when absent). */
  readonly protocol?: '3.2' | '3.3';
}

/** Chat-log completeness of a botbridge run: rows in the store ÷ rows due (one per message received, one per reply written). */
export interface ChatLogFigures {
  readonly due: number;
  readonly written: number;
  /** Rows the bridge counted as dropped (store_writes_dropped{chat_log}). */
  readonly dropped: number;
}

/** RSS of a botbridge run (bytes, no forced GC, as an operator's `ps` shows it). */
export interface MemoryFigures {
  readonly idleRssBytes: number;
  readonly peakRssBytes: number;
  readonly afterCooldownRssBytes: number;
  readonly cooldownMs: number;
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
  /** botbridge only (null for echo, or when the store could not be read after the run). */
  readonly chatLog: ChatLogFigures | null;
  readonly memory: MemoryFigures | null;
}

/**
 * Chat-log rows due from the bridge's final counters: the chat-log plugin writes one row per
 * admitted message (onReceive sees every one) and one per reply written to a phone.
 */
export function chatLogDue(counters: Readonly<Record<string, number>>): number {
  return (counters['messages{admitted}'] ?? 0) + (counters['replies{written}'] ?? 0);
}

const METRICS_SCRAPE_MS = 5_000;

/** GET /metrics every 5 s during the run, as Prometheus would; the scrape cost is part of the figures. */
function scrapeMetrics(httpPort: number | null, token: string): () => void {
  if (httpPort === null) return () => undefined;
  const scrape = () =>
    void fetch(`http://127.0.0.1:${httpPort}/metrics`, { headers: { authorization: `Bearer ${token}` } })
      .then((response) => response.arrayBuffer())
      .catch(() => undefined);
  const timer = setInterval(scrape, METRICS_SCRAPE_MS);
  return () => clearInterval(timer);
}

const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;

const mib = (bytes: number) => (bytes / 1_048_576).toFixed(0);

/** Where a memory figure goes: RSS split into V8 heap, external (Buffers) and the rest (native, code, free pages). */
function describeMemory(stats: ServerStats): string {
  const m = stats.memory;
  const writers = (stats.app as { writers?: unknown }).writers;
  return `rss ${mib(m.rss)} MiB (heap used ${mib(m.heapUsed)} / total ${mib(m.heapTotal)}, external ${mib(m.external)}, array buffers ${mib(m.arrayBuffers)}, other ${mib(m.rss - m.heapTotal - m.external)})${writers ? ` writers ${JSON.stringify(writers)}` : ''}`;
}

/**
 * Starts a fresh server, connects the generator workers, runs warm-up then the measured window
 * (the same wall-clock window for every worker), and stops the server. The server's CPU time is
 * read at the window's edges.
 */
export async function runLoad(ctx: BenchContext, kind: ServerKind, spec: LoadSpec): Promise<LoadRun> {
  const plan = spec.durationMs ? { ...ctx.plan, durationMs: spec.durationMs } : ctx.plan;
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
  let stopped = false;
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
      holdAfterMs: kind === 'botbridge' && spec.cooldownMs ? spec.cooldownMs + 2_000 : 0,
      ...(spec.protocol ? { protocol: spec.protocol } : {}),
    }));
    const run = await withWorkers(tasks, async (gens): Promise<Omit<LoadRun, 'chatLog'>> => {
      const connected = await Promise.all(gens.map((g) => g.next<ConnectedMessage>('connected', 120_000)));
      const handshakeFailures = connected.reduce((n, c) => n + c.failures, 0);
      const notApproved = connected.reduce((n, c) => n + c.notApproved, 0);
      if (notApproved > 0) throw new Error(`${kind}: ${notApproved} devices not approved (autoApprove off, or a store error: see ${dir}/server.log)`);
      if (handshakeFailures > 0) {
        const first = connected.find((c) => c.firstFailure)?.firstFailure;
        // A load run measures replies; connections that never handshake mean a broken setup, not a result.
        throw new Error(`${kind}: ${handshakeFailures} of ${spec.connections} handshakes failed (${first}); see ${dir}/server.log`);
      }
      const snapshot = async (name: string) => {
        if (!spec.heapSnapshots) return;
        const file = join(dir, `${name}.heapsnapshot`);
        await server.heapSnapshot(file);
        ctx.log(`  heap snapshot: ${file}`);
      };
      let memory: { idle: number; peak: number; peakStats: ServerStats | null } | null = null;
      if (kind === 'botbridge' && spec.cooldownMs) {
        const idle = await server.stats();
        ctx.log(`  idle: ${describeMemory(idle)}`);
        await snapshot('idle');
        memory = { idle: idle.memory.rss, peak: 0, peakStats: null };
      }
      const stopScraping = kind === 'botbridge' ? scrapeMetrics(server.httpPort, ctx.adminToken) : () => undefined;
      const rssSampler = memory
        ? setInterval(() => void server.stats().then((s) => {
          if (s.memory.rss <= memory.peak) return;
          memory.peak = s.memory.rss;
          memory.peakStats = s;
        }, () => undefined), 1_000)
        : undefined;
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
      stopScraping();
      clearInterval(rssSampler);
      let memoryFigures: MemoryFigures | null = null;
      if (memory && spec.cooldownMs) {
        if (memory.peakStats) ctx.log(`  peak: ${describeMemory(memory.peakStats)}`);
        ctx.log(`  end of window: ${describeMemory(s1)}`);
        await snapshot('end-of-window');
        ctx.log(`  cool-down: ${spec.cooldownMs / 1000} s with the phones connected and idle`);
        const cooldownEnd = Date.now() + spec.cooldownMs;
        for (let left = spec.cooldownMs; left > 0; left = cooldownEnd - Date.now()) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(left, 10_000)));
          if (cooldownEnd - Date.now() > 0) ctx.log(`  cool-down ${((spec.cooldownMs - (cooldownEnd - Date.now())) / 1000).toFixed(0)} s: ${describeMemory(await server.stats())}`);
        }
        const after = await server.stats();
        ctx.log(`  after cool-down: ${describeMemory(after)}`);
        // Not a figure of the run (operators' processes are not collected by hand): what a full GC would still free.
        if (spec.heapSnapshots || process.env.BENCH_MEMORY_PROBE_GC === '1') {
          ctx.log(`  after a forced full GC: ${describeMemory(await server.stats(true))}`);
          await new Promise((resolve) => setTimeout(resolve, 3_000));
          ctx.log(`  3 s after it: ${describeMemory(await server.stats())}`);
        }
        await snapshot('after-cooldown');
        memoryFigures = { idleRssBytes: memory.idle, peakRssBytes: Math.max(memory.peak, s1.memory.rss), afterCooldownRssBytes: after.memory.rss, cooldownMs: spec.cooldownMs };
      }
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
        memory: memoryFigures,
      };
    });
    const final = await server.stop();
    stopped = true;
    const chatLog: ChatLogFigures | null = kind === 'botbridge' && final && final.chatLogRows !== null
      ? { due: chatLogDue(final.counters), written: final.chatLogRows, dropped: final.counters['store_writes_dropped{chat_log}'] ?? 0 }
      : null;
    return { ...run, chatLog };
  } finally {
    if (!stopped) await server.stop();
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
    chatLog: runs.every((r) => r.chatLog)
      ? runs.reduce((sum, r) => ({ due: sum.due + r.chatLog!.due, written: sum.written + r.chatLog!.written, dropped: sum.dropped + r.chatLog!.dropped }), { due: 0, written: 0, dropped: 0 })
      : null,
    memory: runs.find((r) => r.memory)?.memory ?? null,
  };
}

/** Whether a botbridge figure may be reported as a result: no chat-log row dropped or missing. */
export function chatLogComplete(f: LoadFigures): boolean | null {
  if (!f.chatLog) return null;
  return f.chatLog.dropped === 0 && f.chatLog.written >= f.chatLog.due;
}
