/** What one `npm run bench` invocation measures; `quick` is the same shape scaled down. */
export interface BenchPlan {
  readonly mode: 'full' | 'quick';
  /** Each load scenario runs echo and botbridge this many times, alternating which goes first. */
  readonly rounds: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
  readonly drainMs: number;
  readonly closedLoop: { readonly connections: readonly number[]; readonly window: number };
  /** Offered loads as fractions of botbridge's closed-loop capacity at `connections`. */
  readonly openLoop: { readonly connections: number; readonly loads: readonly number[] };
  readonly idle: {
    readonly connections: number;
    readonly holdMs: number;
    readonly pingIntervalMs: number;
    readonly pingJitterMs: number;
    readonly connectConcurrency: number;
  };
  readonly churn: { readonly cycles: number; readonly lanes: number; readonly checkpointEvery: number };
  /** Closed-loop runs with the MariaDB store (skipped, and reported as such, when it cannot open). */
  readonly mariadb: { readonly url: string; readonly connections: readonly number[] };
  /** CPU-profile botbridge in extra runs (never in the measured ones: profiling slows it). */
  readonly profile: { readonly closedLoopConnections: number; readonly churnCycles: number } | null;
  /**
   * The profiler plugin's cost: closed-loop botbridge runs without and with the profiler,
   * alternated for `rounds` rounds, plus the micro-benchmark of the core's event guards
   * (`guardMessages` counted `# echo` messages, the guards then timed `guardRepeats` times over).
   */
  readonly profilerCost: { readonly connections: number; readonly rounds: number; readonly guardMessages: number; readonly guardRepeats: number };
  /**
   * What protocol v3.3 costs against v3.2 (issue 12): closed-loop botbridge runs with every phone
   * on v3.2, then every phone on v3.3, alternated for `rounds` rounds.
   */
  readonly protocolCost: { readonly connections: number; readonly window: number; readonly rounds: number };
  /**
   * Issue 11's "nothing lost" runs: botbridge alone, closed loop at `connections`, a `durationMs`
   * window on SQLite and on MariaDB; chat-log rows counted against rows due, RSS idle → peak →
   * after `cooldownMs` with the phones still connected.
   */
  readonly nothingLost: {
    readonly connections: number;
    readonly durationMs: number;
    readonly cooldownMs: number;
    /** Heap snapshots of botbridge at idle, peak and after the cool-down (--heap-snapshots). */
    readonly heapSnapshots?: boolean;
    /** Which stores (--lost-stores); both by default. */
    readonly stores?: readonly ('sqlite' | 'mariadb')[];
  };
}

const MARIADB_URL = process.env.BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/botbridge_bench';

export const fullPlan: BenchPlan = {
  mode: 'full',
  rounds: 2,
  warmupMs: 2_000,
  durationMs: 8_000,
  timeoutMs: 5_000,
  drainMs: 5_000,
  closedLoop: { connections: [1, 10, 100, 1_000], window: 1 },
  openLoop: { connections: 100, loads: [0.25, 0.5, 0.75] },
  idle: { connections: 10_000, holdMs: 12_000, pingIntervalMs: 2_000, pingJitterMs: 2_000, connectConcurrency: 200 },
  churn: { cycles: 100_000, lanes: 32, checkpointEvery: 10_000 },
  mariadb: { url: MARIADB_URL, connections: [1, 10, 100, 1_000] },
  profile: { closedLoopConnections: 100, churnCycles: 20_000 },
  profilerCost: { connections: 100, rounds: 3, guardMessages: 5_000, guardRepeats: 200 },
  protocolCost: { connections: 100, window: 1, rounds: 3 },
  nothingLost: { connections: 100, durationMs: 60_000, cooldownMs: 60_000 },
};

export const quickPlan: BenchPlan = {
  mode: 'quick',
  rounds: 1,
  warmupMs: 800,
  durationMs: 2_000,
  timeoutMs: 5_000,
  drainMs: 2_000,
  closedLoop: { connections: [1, 10, 100], window: 1 },
  openLoop: { connections: 100, loads: [0.5] },
  idle: { connections: 1_000, holdMs: 3_000, pingIntervalMs: 2_000, pingJitterMs: 2_000, connectConcurrency: 100 },
  churn: { cycles: 3_000, lanes: 32, checkpointEvery: 1_000 },
  mariadb: { url: MARIADB_URL, connections: [100] },
  profile: null,
  profilerCost: { connections: 100, rounds: 1, guardMessages: 1_000, guardRepeats: 300 },
  protocolCost: { connections: 100, window: 1, rounds: 1 },
  // The cool-down outlasts memory.releaseAfterQuietMs (10 s) plus its sampling, so the release is measured.
  nothingLost: { connections: 100, durationMs: 5_000, cooldownMs: 20_000 },
};

/** Generator processes for a number of connections: one is enough until it nears a full core. */
export function generatorWorkers(connections: number): number {
  return connections >= 1_000 ? 2 : 1;
}
