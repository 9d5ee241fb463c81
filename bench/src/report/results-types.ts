import type { LoadCounts } from '../generator/bench-connection.js';
import type { Percentiles } from '../generator/samples.js';
import type { ServerKind } from '../servers/server-process.js';
import type { ChatLogFigures, MemoryFigures } from '../scenarios/load-run.js';

export type { ChatLogFigures, MemoryFigures };

/** The JSON written to bench/results/<date>-<mode>.json and rendered into docs/benchmarks.md. */

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemoryMiB: number;
  readonly os: string;
  readonly node: string;
  readonly date: string;
}

/** One server's figures for a load scenario, rounds pooled. */
export interface LoadFigures {
  /** Mean over rounds of replies received in the window per second. */
  readonly repliesPerSec: number;
  readonly perRound: readonly number[];
  /** Requests sent per second in the window (the offered load in open-loop mode). */
  readonly sentPerSec: number;
  /** Latency, ms, exact percentiles over every sample of every round. */
  readonly latency: Percentiles;
  /** Open loop: the generator's lag behind its schedule, ms (already inside `latency`). */
  readonly sendLag: Percentiles | null;
  readonly counts: LoadCounts;
  readonly handshakeFailures: number;
  /** CPU time per second of window, in cores (1.0 = one core busy). */
  readonly generatorCpu: number;
  readonly serverCpu: number;
  /** Cores used by other tenants of the machine during the window (machine busy − server − generator). */
  readonly otherCpu: number;
  /**
   * botbridge: chat-log rows in the store after the run ÷ rows due, summed over rounds. A run
   * that lost rows is invalid: its throughput was bought with dropped writes. Absent in results
   * written before 2026-12-06; null for echo or when the store could not be read.
   */
  readonly chatLog?: ChatLogFigures | null;
  /** botbridge, where the plan asks for it: RSS idle → peak under load → after a cool-down. */
  readonly memory?: MemoryFigures | null;
}

export interface LoadComparison {
  readonly id: string;
  readonly mode: 'closed' | 'open';
  readonly store: 'sqlite' | 'mariadb';
  readonly connections: number;
  readonly window: number | null;
  /** Open loop: the total offered rate (req/s) and its fraction of the measured capacity. */
  readonly offeredRate: number | null;
  readonly offeredFraction: number | null;
  readonly echo: LoadFigures;
  readonly botbridge: LoadFigures;
  /** botbridge ÷ echo. */
  readonly ratio: { readonly throughput: number; readonly p50: number; readonly p99: number };
}

export interface IdleFigures {
  readonly connections: number;
  readonly failures: number;
  readonly firstFailure: string | null;
  readonly handshakesPerSec: number;
  readonly handshakeMs: Percentiles;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly rssPerConnectionBytes: number;
  readonly heapPerConnectionBytes: number;
  readonly pingsSentByServer: number;
  readonly pingsReceived: number;
  readonly pingsAnswered: number;
  readonly answersRecordedByServer: number;
  /** Expected pings that did not arrive within the allowed gap, plus answers the server did not record. */
  readonly missedPings: number;
  readonly maxPingGapMs: number;
  readonly pingDelayMs: Percentiles;
  readonly closedByServer: number;
  readonly serverCpuDuringHold: number;
  readonly generatorCpuDuringHold: number;
}

export interface IdleComparison {
  readonly holdMs: number;
  readonly pingIntervalMs: number;
  readonly pingJitterMs: number;
  readonly missedAfterMs: number;
  readonly echo: IdleFigures;
  readonly botbridge: IdleFigures;
}

export interface ChurnCheckpoint {
  readonly cycles: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly handles: Readonly<Record<string, number>>;
  readonly connections: number;
}

export interface ChurnFigures {
  readonly cycles: number;
  readonly failures: number;
  readonly firstFailure: string | null;
  readonly cyclesPerSec: number;
  readonly handshakeMs: Percentiles;
  readonly before: ChurnCheckpoint;
  readonly checkpoints: readonly ChurnCheckpoint[];
  readonly after: ChurnCheckpoint;
  /** RSS after all cycles vs after the first checkpoint (first 10,000 in the full run), in %. */
  readonly rssGrowthPercent: number;
  /** Active handles after − before, by kind (0 everywhere = no leak). */
  readonly leakedHandles: Readonly<Record<string, number>>;
}

export interface ChurnComparison {
  readonly lanes: number;
  readonly echo: ChurnFigures;
  readonly botbridge: ChurnFigures;
}

export interface ProfileEntry {
  readonly name: string;
  /** Shortened script URL and line. */
  readonly location: string;
  readonly selfMs: number;
  readonly selfPercent: number;
}

export interface ProfileSummary {
  readonly scenario: string;
  readonly totalMs: number;
  /** Self time by category (core module, plugin, dependency, node internals, GC, idle). */
  readonly categories: readonly { readonly category: string; readonly selfMs: number; readonly selfPercent: number }[];
  /** Top functions by self time. */
  readonly top: readonly ProfileEntry[];
  /** Top project and dependency functions by inclusive time (callees included); selfMs holds the inclusive ms. */
  readonly inclusive: readonly ProfileEntry[];
}

/**
 * The core's event fast path with nobody subscribed (bench/micro/event-guards.ts): how many
 * `events.publish()` calls (counter increment + subscriber check) and `events.active()` guards
 * one `# echo` message passes (counted on a real bridge over TCP), and what they cost replayed
 * on a real `EventBus` with no subscribers. Results from before the extension table have no
 * publishes (their core guarded every event with `active()`).
 */
export interface EventGuardCost {
  /** Messages of the counted run (after a warm-up), over `connections` concurrent connections. */
  readonly messages: number;
  readonly connections: number;
  /** `active()` calls per message, all names. */
  readonly checksPerMessage: number;
  /** Per message, by event name. */
  readonly checksByName: Readonly<Record<string, number>>;
  /** `publish()` calls per message, all names (absent in results from before the extension table). */
  readonly publishesPerMessage?: number;
  readonly publishesByName?: Readonly<Record<string, number>>;
  /**
   * Checks and publishes of the counted run that found a subscriber (0 when nothing listens),
   * not counting `standingSubscribers`.
   */
  readonly activeChecks: number;
  /** Events the config's own plugins subscribe to throughout (the chat log's `reply:sent`): their work, not a guard's. */
  readonly standingSubscribers?: readonly string[];
  /** Timed: the counted run's checks and publishes replayed `repeats` times on a fresh EventBus. */
  readonly repeats: number;
  readonly nsPerCheck: number;
  readonly nsPerPublish?: number;
  /** Checks × ns per check + publishes × ns per publish. */
  readonly nsPerMessage: number;
}

/** The profiler plugin's cost: the Domaeka config without (a) and with (b) the profiler, alternated. */
export interface ProfilerCost {
  readonly connections: number;
  readonly rounds: number;
  /** Config files, relative to the repository. */
  readonly configs: { readonly disabled: string; readonly enabled: string };
  readonly disabled: LoadFigures;
  readonly enabled: LoadFigures;
  /** enabled ÷ disabled (cpuPerReply: server CPU time per reply). */
  readonly ratio: { readonly throughput: number; readonly p50: number; readonly p99: number; readonly cpuPerReply: number };
  /** null when the micro-benchmark failed (its reason is in `failures`). */
  readonly guards: EventGuardCost | null;
}

/** Issue 12: protocol v3.3 against v3.2, botbridge alone, every phone on one line per run, alternated. */
export interface ProtocolCost {
  readonly connections: number;
  readonly window: number;
  readonly rounds: number;
  readonly v32: LoadFigures;
  readonly v33: LoadFigures;
  /** v3.3 ÷ v3.2 (cpuPerReply: server CPU time per reply). */
  readonly ratio: { readonly throughput: number; readonly p50: number; readonly p99: number; readonly cpuPerReply: number };
}

/** One of issue 11's "nothing lost" runs (botbridge alone, one long window). */
export interface NothingLostRun {
  readonly id: string;
  readonly store: 'sqlite' | 'mariadb';
  readonly connections: number;
  readonly durationMs: number;
  readonly botbridge: LoadFigures;
  /** The same store and connection count in the reference run (before nothing-lost), for comparison. */
  readonly reference: { readonly file: string; readonly repliesPerSec: number; readonly usPerReply: number } | null;
}

export type Skipped = { readonly status: 'not-run'; readonly reason: string };

export interface BenchResults {
  readonly schema: 1;
  readonly mode: 'full' | 'quick';
  readonly machine: MachineInfo;
  /** The commit measured (and whether core/sdk/plugins had uncommitted changes). */
  readonly revision: string;
  /** Scenarios that failed, with the reason (their sections are missing). */
  readonly failures: readonly string[];
  readonly plan: Readonly<Record<string, unknown>>;
  readonly serverProcesses: { readonly kinds: readonly ServerKind[]; readonly note: string };
  readonly closedLoop: readonly LoadComparison[];
  readonly openLoop: readonly LoadComparison[];
  readonly idle: IdleComparison | null;
  readonly churn: ChurnComparison | null;
  readonly mariadb: readonly LoadComparison[] | Skipped;
  readonly profiles: readonly ProfileSummary[];
  /** Absent in results written before the profiler scenario existed; null when not run. */
  readonly profilerCost?: ProfilerCost | null;
  /** Absent in results written before the protocols scenario existed (issue 12); null when not run. */
  readonly protocolCost?: ProtocolCost | null;
  /** Absent in results written before 2026-12-06; null when not run. */
  readonly nothingLost?: readonly NothingLostRun[] | null;
  /** Other tenants' CPU use (fraction of all cores) right before each run, and time spent waiting for quiet. */
  readonly machineLoad: { readonly busyBeforeRuns: readonly number[]; readonly waitedMs: number };
  readonly elapsedMs: number;
}
