import type { BridgeEventMap, BridgeEvents, MessageOutcome } from '@botbridge/sdk';
import type { ProfileStage } from './profile-event.js';
import { partitionStages, type StageInterval } from './stage-partition.js';

/** One event of a message's trace, with its time relative to admission (for the slow log). */
export interface TraceStep {
  readonly event: string;
  readonly atMs: number;
  readonly [detail: string]: unknown;
}

/** Where one message's time went, from admission to its last reply. */
export interface MessageProfile {
  readonly traceId: string;
  readonly botName: string;
  readonly room: string;
  readonly text: string;
  readonly outcome: MessageOutcome;
  readonly totalMs: number;
  readonly stages: readonly ProfileStage[];
  readonly trace: readonly TraceStep[];
}

interface Reply {
  readonly queuedAt: number;
  sentAt?: number;
  sendMs?: number;
}

interface Trace {
  readonly traceId: string;
  readonly botName: string;
  readonly room: string;
  readonly text: string;
  readonly admittedAt: number;
  startedAt?: number;
  slotWaitMs?: number;
  finishedAt?: number;
  outcome?: MessageOutcome;
  pending: number;
  readonly handlers: StageInterval[];
  readonly replies: Map<number, Reply>;
  readonly steps: TraceStep[];
}

export interface TraceCollectorOptions {
  readonly onProfile: (profile: MessageProfile) => void;
  /** Messages followed at once; the oldest is given up beyond it. */
  readonly maxInFlight: number;
  /** A message given up (never finished, or pushed out): the reason is counted. */
  readonly onDropped?: (reason: 'expired' | 'overflow') => void;
}

const HANDLER_STAGES: Readonly<Record<string, StageInterval['stage']>> = { onReceive: 'onReceive', onMessage: 'onMessage', beforeReply: 'beforeReply' };

/**
 * Follows each message on the public event stream by its trace id, from `message:admitted` to
 * `message:finished` and the `reply:sent` of every reply it queued, then hands its profile on.
 * Only messages seen from their admission are followed (a message already queued when the
 * profiler started has no complete story).
 */
export class TraceCollector {
  private readonly traces = new Map<string, Trace>();

  constructor(private readonly options: TraceCollectorOptions) {}

  get inFlight(): number {
    return this.traces.size;
  }

  /** The text of a message being followed (for labelling its handler timings). */
  textOf(traceId: string): string | undefined {
    return this.traces.get(traceId)?.text;
  }

  subscribe(events: BridgeEvents): void {
    events.subscribe('message:admitted', (e) => this.admitted(e));
    events.subscribe('message:started', (e) => this.with(e.traceId, e.at, 'message:started', { queueWaitMs: e.queueWaitMs, slotWaitMs: e.slotWaitMs }, (t) => {
      t.startedAt = e.at;
      t.slotWaitMs = e.slotWaitMs;
    }));
    events.subscribe('plugin:handler', (e) => {
      if (e.traceId === null) return;
      const stage = HANDLER_STAGES[e.hook];
      this.with(e.traceId, e.at, 'plugin:handler', { plugin: e.plugin, hook: e.hook, durationMs: e.durationMs, outcome: e.outcome }, (t) => {
        if (stage !== undefined) t.handlers.push({ from: e.at - e.durationMs, to: e.at, stage, plugin: e.plugin });
      });
    });
    events.subscribe('reply:queued', (e) => this.with(e.traceId, e.at, 'reply:queued', { index: e.index }, (t) => {
      if (t.replies.has(e.index)) return;
      t.replies.set(e.index, { queuedAt: e.at });
      t.pending += 1;
    }));
    events.subscribe('reply:sent', (e) => this.with(e.traceId, e.at, 'reply:sent', { index: e.index, ok: e.ok, error: e.error, sendMs: e.sendMs }, (t) => {
      const reply = t.replies.get(e.index);
      if (reply === undefined || reply.sentAt !== undefined) return;
      reply.sentAt = e.at;
      reply.sendMs = e.sendMs;
      t.pending -= 1;
      if (t.finishedAt !== undefined && t.pending === 0) this.complete(t);
    }));
    events.subscribe('message:finished', (e) => this.with(e.traceId, e.at, 'message:finished', { outcome: e.outcome }, (t) => {
      t.finishedAt = e.at;
      t.outcome = e.outcome;
      if (t.pending === 0) this.complete(t);
    }));
  }

  /** Gives up messages admitted before `cutoff` (epoch ms): hung handlers, replies never sent. */
  expire(cutoff: number): void {
    for (const [traceId, trace] of this.traces) {
      if (trace.admittedAt >= cutoff) break;
      this.traces.delete(traceId);
      this.options.onDropped?.('expired');
    }
  }

  private admitted(e: BridgeEventMap['message:admitted']): void {
    if (this.traces.size >= this.options.maxInFlight) {
      const oldest = this.traces.keys().next().value;
      if (oldest !== undefined) this.traces.delete(oldest);
      this.options.onDropped?.('overflow');
    }
    this.traces.set(e.traceId, {
      traceId: e.traceId,
      botName: e.botName,
      room: e.room,
      text: e.text,
      admittedAt: e.at,
      pending: 0,
      handlers: [],
      replies: new Map(),
      steps: [{ event: 'message:admitted', atMs: 0, deviceId: e.deviceId }],
    });
  }

  private with(traceId: string, at: number, event: string, detail: Record<string, unknown>, update: (trace: Trace) => void): void {
    const trace = this.traces.get(traceId);
    if (trace === undefined) return;
    trace.steps.push({ event, atMs: round(at - trace.admittedAt), ...detail });
    update(trace);
  }

  private complete(t: Trace): void {
    this.traces.delete(t.traceId);
    const started = t.startedAt ?? t.admittedAt;
    const runnable = started - (t.slotWaitMs ?? 0);
    const finished = t.finishedAt ?? started;
    const intervals: StageInterval[] = [
      { from: t.admittedAt, to: runnable, stage: 'queue', plugin: null },
      { from: runnable, to: started, stage: 'concurrency', plugin: null },
      { from: started, to: finished, stage: 'core', plugin: null },
      ...t.handlers,
    ];
    let end = finished;
    for (const reply of t.replies.values()) {
      const sentAt = reply.sentAt ?? reply.queuedAt;
      const sendStart = sentAt - (reply.sendMs ?? 0);
      intervals.push({ from: reply.queuedAt, to: sendStart, stage: 'hold', plugin: null }, { from: sendStart, to: sentAt, stage: 'send', plugin: null });
      end = Math.max(end, sentAt);
    }
    this.options.onProfile({
      traceId: t.traceId,
      botName: t.botName,
      room: t.room,
      text: t.text,
      outcome: t.outcome ?? 'error',
      totalMs: end - t.admittedAt,
      stages: partitionStages(t.admittedAt, end, intervals),
      trace: t.steps,
    });
  }
}

function round(ms: number): number {
  return Math.round(ms * 1_000) / 1_000;
}
