import type { ProfileStage } from './profile-event.js';

export type StageName = ProfileStage['stage'];

/** A span of time during which one stage was running. */
export interface StageInterval {
  readonly from: number;
  readonly to: number;
  readonly stage: StageName;
  readonly plugin: string | null;
}

/**
 * When two stages run at the same instant, the instant counts for the innermost one: a
 * beforeReply runs inside the onMessage handler that called ctx.reply(), a send inside a hold,
 * a handler inside its job. Queue and concurrency never overlap anything.
 */
const PRIORITY: Readonly<Record<StageName, number>> = {
  other: 0,
  queue: 1,
  concurrency: 1,
  hold: 2,
  core: 3,
  onReceive: 4,
  onMessage: 5,
  beforeReply: 6,
  send: 7,
};

const ORDER: readonly StageName[] = ['queue', 'concurrency', 'core', 'onReceive', 'onMessage', 'beforeReply', 'hold', 'send', 'other'];

/**
 * Splits [start, end] into stages so that every instant is counted exactly once: the stages'
 * durations add up to `end - start` by construction (up to float rounding). Instants no
 * interval covers are `other`. Parallel onReceive observers overlap each other; they are one
 * stage without a plugin. n is a few dozen at most, so the quadratic scan is the simple choice.
 */
export function partitionStages(start: number, end: number, intervals: readonly StageInterval[]): ProfileStage[] {
  const clipped = intervals
    .map((i) => ({ ...i, from: Math.max(start, i.from), to: Math.min(end, i.to) }))
    .filter((i) => i.to > i.from);
  const points = [...new Set([start, end, ...clipped.flatMap((i) => [i.from, i.to])])].sort((a, b) => a - b);
  const totals = new Map<string, { stage: StageName; plugin: string | null; ms: number }>();
  for (let k = 0; k + 1 < points.length; k += 1) {
    const from = points[k]!;
    const to = points[k + 1]!;
    let winner: StageInterval | undefined;
    for (const interval of clipped) {
      if (interval.from <= from && interval.to >= to && (winner === undefined || PRIORITY[interval.stage] > PRIORITY[winner.stage])) winner = interval;
    }
    const stage = winner?.stage ?? 'other';
    const plugin = stage === 'onMessage' || stage === 'beforeReply' ? (winner?.plugin ?? null) : null;
    const key = `${stage}\u0000${plugin ?? ''}`;
    const entry = totals.get(key) ?? { stage, plugin, ms: 0 };
    entry.ms += to - from;
    totals.set(key, entry);
  }
  return [...totals.values()].sort((a, b) => ORDER.indexOf(a.stage) - ORDER.indexOf(b.stage));
}

/** `onMessage:commands`, `queue`: one name per stage and plugin, for summaries and logs. */
export function stageKey(stage: ProfileStage): string {
  return stage.plugin === null ? stage.stage : `${stage.stage}:${stage.plugin}`;
}
