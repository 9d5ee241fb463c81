import type { ProfileStage } from './profile-event.js';
import { stageKey } from './stage-partition.js';

/** What the window keeps of one profile. */
export interface WindowEntry {
  readonly totalMs: number;
  readonly stages: readonly ProfileStage[];
  /** Command label, or null for a line that is no command. */
  readonly command: string | null;
  readonly slow: boolean;
}

export interface Distribution {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

export interface WindowSummary {
  readonly total: Distribution;
  readonly slow: number;
  /** Mean time per stage over every message (a stage a message did not have counts as 0). */
  readonly stages: readonly { readonly stage: ProfileStage; readonly meanMs: number }[];
  /** Most frequent first. */
  readonly commands: readonly { readonly command: string | null; readonly total: Distribution }[];
}

/** The last `size` profiles of each bot, for `# profile`. Memory is bounded: size × bots. */
export class ProfileWindow {
  private readonly bots = new Map<string, { entries: WindowEntry[]; next: number }>();

  constructor(private readonly size: number) {}

  add(botName: string, entry: WindowEntry): void {
    let ring = this.bots.get(botName);
    if (ring === undefined) {
      ring = { entries: [], next: 0 };
      this.bots.set(botName, ring);
    }
    if (ring.entries.length < this.size) ring.entries.push(entry);
    else ring.entries[ring.next] = entry;
    ring.next = (ring.next + 1) % this.size;
  }

  clear(botName: string): void {
    this.bots.delete(botName);
  }

  summary(botName: string): WindowSummary | null {
    const entries = this.bots.get(botName)?.entries ?? [];
    if (entries.length === 0) return null;
    const stageTotals = new Map<string, { stage: ProfileStage; sum: number }>();
    const byCommand = new Map<string | null, number[]>();
    for (const entry of entries) {
      for (const stage of entry.stages) {
        const key = stageKey(stage);
        const total = stageTotals.get(key) ?? { stage, sum: 0 };
        total.sum += stage.ms;
        stageTotals.set(key, total);
      }
      const list = byCommand.get(entry.command) ?? [];
      list.push(entry.totalMs);
      byCommand.set(entry.command, list);
    }
    return {
      total: distribution(entries.map((e) => e.totalMs)),
      slow: entries.filter((e) => e.slow).length,
      stages: [...stageTotals.values()].map(({ stage, sum }) => ({ stage, meanMs: sum / entries.length })),
      commands: [...byCommand.entries()]
        .map(([command, totals]) => ({ command, total: distribution(totals) }))
        .sort((a, b) => b.total.count - a.total.count),
    };
  }
}

/** Exact percentiles (nearest rank) of a small sample. */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    meanMs: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
    p50Ms: rank(0.5),
    p95Ms: rank(0.95),
    maxMs: sorted[sorted.length - 1]!,
  };
}
