import type { LoadCounts } from './bench-connection.js';

/** Coordinator ↔ generator worker messages (IPC, advanced serialization: typed arrays travel as is). */

export interface LoadTask {
  readonly type: 'load';
  readonly port: number;
  readonly mode: 'closed' | 'open';
  /** Global index of this worker's first connection, and how many it opens. */
  readonly first: number;
  readonly count: number;
  /** Closed loop: requests in flight per connection. */
  readonly window: number;
  /** Open loop: this worker's share of the total rate. */
  readonly ratePerSec: number;
  readonly connectConcurrency: number;
  readonly timeoutMs: number;
  readonly drainMs: number;
  /** Keep the connections open (answering pings) this long after reporting: the memory cool-down. */
  readonly holdAfterMs?: number;
  /** Which script line every phone of the task plays; '3.2' when absent. */
  readonly protocol?: '3.2' | '3.3';
}

export interface IdleTask {
  readonly type: 'idle';
  readonly port: number;
  readonly first: number;
  readonly count: number;
  readonly connectConcurrency: number;
}

export interface ChurnTask {
  readonly type: 'churn';
  readonly port: number;
  readonly firstLane: number;
  readonly lanes: number;
  readonly cycles: number;
  readonly checkpointEvery: number;
}

export type Task = LoadTask | IdleTask | ChurnTask;

export interface TaskMessage {
  readonly type: 'task';
  readonly task: Task;
}

export interface ConnectedMessage {
  readonly type: 'connected';
  readonly opened: number;
  readonly failures: number;
  readonly notApproved: number;
  readonly firstFailure: string | null;
  readonly handshakeMs: Float64Array;
  /** Epoch ms of the first connect and of the last handshake answer. */
  readonly startedAtEpoch: number;
  readonly doneAtEpoch: number;
}

/** Absolute wall-clock times, so several workers share one window. */
export interface GoMessage {
  readonly type: 'go';
  readonly loadStartEpoch: number;
  readonly measureStartEpoch: number;
  readonly measureEndEpoch: number;
}

export interface LoadResultMessage {
  readonly type: 'load-result';
  readonly counts: LoadCounts;
  readonly latencies: Float64Array;
  readonly sendLag: Float64Array;
  /** CPU time this worker used inside the window (µs) and the window's real length (ms). */
  readonly cpuMicros: number;
  readonly windowMs: number;
}

export interface HoldMessage {
  readonly type: 'hold';
  readonly holdMs: number;
  /** A gap between two pings (or hold start/end and a ping) longer than this is a missed ping. */
  readonly missedAfterMs: number;
}

export interface HeldMessage {
  readonly type: 'held';
  /** Counts during the hold. */
  readonly counts: LoadCounts;
  /** Ping answers written since the connection opened (to compare with the server's total). */
  readonly totalAnswered: number;
  readonly missedPings: number;
  readonly maxGapMs: number;
  /** Server timestamp → generator receive time, per ping (wall clock, ms resolution). */
  readonly pingDelayMs: Float64Array;
  readonly cpuMicros: number;
}

export interface CheckpointMessage {
  readonly type: 'checkpoint';
  readonly cycles: number;
}

export interface ChurnDoneMessage {
  readonly type: 'churn-done';
  readonly cycles: number;
  readonly failures: number;
  readonly firstFailure: string | null;
  /** Time spent cycling, checkpoint pauses excluded. */
  readonly activeMs: number;
  readonly handshakeMs: Float64Array;
  readonly cpuMicros: number;
}
