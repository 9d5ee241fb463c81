import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchPlan } from '../plan.js';
import { ServerProcess, type ServerKind } from '../servers/server-process.js';

export interface ServerOptions {
  readonly maxConnections: number;
  readonly maxHandshaking: number;
  readonly pingIntervalMs?: number;
  readonly pingJitterMs?: number;
  /** botbridge only: defaults to a fresh SQLite file in the run's directory. */
  readonly storeUrl?: string;
  /** botbridge only: the config file (absolute path); defaults to bench/configs/domaeka.config.ts. */
  readonly configFile?: string;
}

/**
 * What every scenario shares: the plan, a scratch directory (SQLite files, server logs, CPU
 * profiles) and progress output. Each server run gets its own directory, so every botbridge
 * starts with an empty store.
 */
/** Busy and total jiffies of all CPUs from /proc/stat (Linux); null elsewhere. */
export function cpuTimes(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3]! + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** What the quiet gate saw over the whole invocation. */
export interface QuietGateLog {
  /** Busy fraction of the machine (all cores) measured right before each run, none of ours running. */
  readonly busyBeforeRuns: number[];
  waitedMs: number;
}

export class BenchContext {
  private runs = 0;
  /** botbridge's admin token for this invocation (BOTBRIDGE_ADMIN_TOKEN): the coordinator scrapes /metrics with it. */
  readonly adminToken = randomBytes(24).toString('base64url');
  readonly quiet: QuietGateLog = { busyBeforeRuns: [], waitedMs: 0 };

  constructor(
    readonly plan: BenchPlan,
    readonly workDir: string,
    private readonly out: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  log(line: string): void {
    this.out(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
  }

  /**
   * The machine is shared: before each run, with none of the bench's processes running, waits
   * until the other tenants leave the CPUs mostly idle (busy ≤ 25% over one second), up to
   * `maxWaitMs`. What it saw is kept in the results, so a noisy run is visible as such.
   */
  async waitForQuiet(maxWaitMs = this.plan.mode === 'full' ? 30_000 : 1_500): Promise<void> {
    const started = Date.now();
    let logged = false;
    for (;;) {
      const a = cpuTimes();
      await sleep(1_000);
      const b = cpuTimes();
      if (!a || !b) return;
      const busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
      if (busy <= 0.25 || Date.now() - started >= maxWaitMs) {
        this.quiet.busyBeforeRuns.push(Number(busy.toFixed(3)));
        this.quiet.waitedMs += Date.now() - started - 1_000;
        if (logged) this.log(`  machine ${busy <= 0.25 ? 'quiet again' : 'still busy, going on'} (${Math.round(busy * 100)}% busy)`);
        return;
      }
      if (!logged) this.log(`  machine busy with other work (${Math.round(busy * 100)}% of all cores): waiting up to ${maxWaitMs / 1000} s`);
      logged = true;
    }
  }

  /** Starts a server for one run; its log and store live in a fresh directory. */
  async startServer(kind: ServerKind, label: string, options: ServerOptions): Promise<{ server: ServerProcess; dir: string }> {
    await this.waitForQuiet();
    this.runs += 1;
    const dir = join(this.workDir, `${String(this.runs).padStart(3, '0')}-${label}-${kind}`);
    mkdirSync(dir, { recursive: true });
    const env: Record<string, string> = {
      BENCH_MAX_CONNECTIONS: String(options.maxConnections),
      BENCH_MAX_HANDSHAKING: String(options.maxHandshaking),
    };
    if (options.pingIntervalMs !== undefined) env.BENCH_PING_INTERVAL_MS = String(options.pingIntervalMs);
    if (options.pingJitterMs !== undefined) env.BENCH_PING_JITTER_MS = String(options.pingJitterMs);
    if (kind === 'botbridge') env.BENCH_STORE_URL = options.storeUrl ?? `sqlite:${join(dir, 'bench.db')}`;
    if (kind === 'botbridge') env.BOTBRIDGE_ADMIN_TOKEN = this.adminToken;
    if (kind === 'botbridge' && options.configFile !== undefined) env.BENCH_CONFIG = options.configFile;
    const server = await ServerProcess.start({ kind, env, logFile: join(dir, 'server.log') });
    return { server, dir };
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` at a wall-clock time. */
export function at<T>(epochMs: number, fn: () => Promise<T>): Promise<T> {
  return sleep(Math.max(0, epochMs - Date.now())).then(fn);
}
