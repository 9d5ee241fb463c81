import type { Bridge } from '../../bridge.js';

/** Samples kept per window; beyond it only count and max move (the dashboard needs a shape, not every value). */
const MAX_SAMPLES = 5_000;

interface Distribution {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

class SampleWindow {
  private samples: number[] = [];
  private count = 0;
  private max = 0;

  add(ms: number): void {
    this.count += 1;
    if (ms > this.max) this.max = ms;
    if (this.samples.length < MAX_SAMPLES) this.samples.push(ms);
  }

  /** The distribution since the last take, then a fresh window. */
  take(): Distribution {
    const sorted = this.samples.sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? null : round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!));
    const result = { count: this.count, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: this.count === 0 ? null : round(this.max) };
    this.samples = [];
    this.count = 0;
    this.max = 0;
    return result;
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * The figures of one `queue:stats` event: queue depth and slots now, throughput since the
 * previous tick (from the bridge's counters), and queue-wait and processing-time distributions
 * of the messages that started or finished in between.
 */
export class QueueStats {
  readonly wait = new SampleWindow();
  readonly processing = new SampleWindow();
  private previous: { at: number; admitted: number; replies: number; completed: number } | null = null;

  constructor(private readonly bridge: Bridge) {}

  take(now: number): Record<string, unknown> {
    const stats = this.bridge.admin.stats();
    const admitted = this.bridge.admin.counters.get('messages', 'admitted');
    const replies = this.bridge.admin.counters.get('replies', 'written');
    const completed = stats.dispatcher.totals.completed;
    const previous = this.previous;
    const seconds = previous === null ? 0 : (now - previous.at) / 1_000;
    const rate = (value: number, before: number | undefined) => (seconds > 0 && before !== undefined ? round((value - before) / seconds) : 0);
    this.previous = { at: now, admitted, replies, completed };
    return {
      queued: stats.dispatcher.queued,
      running: stats.dispatcher.running,
      lingering: stats.dispatcher.lingering,
      activeRooms: stats.dispatcher.activeRooms,
      saturated: stats.saturated,
      connections: stats.connections,
      clients: stats.clients,
      totals: { admitted, repliesSent: replies, completed },
      perSecond: {
        admitted: rate(admitted, previous?.admitted),
        repliesSent: rate(replies, previous?.replies),
        completed: rate(completed, previous?.completed),
      },
      waitMs: this.wait.take(),
      processingMs: this.processing.take(),
    };
  }
}
