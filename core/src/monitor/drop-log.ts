import type { CoreLogger } from '../logger.js';
import type { EventBus } from '../events/bridge-events.js';

/**
 * Counts dropped rows at once (`store_writes_dropped{table}`) and logs them at most once per
 * interval, each line with the rows dropped since the previous one, so a long outage under load
 * writes one line per interval instead of one per row. Rows dropped after the last line of a
 * burst are logged when the interval ends (or at `flush`), so no count goes unlogged.
 */
export class DropLog {
  private unlogged = 0;
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private lastReason = '';

  constructor(
    private readonly options: {
      readonly name: string;
      readonly events: EventBus;
      readonly log: CoreLogger;
      readonly intervalMs: number;
      readonly now?: () => number;
    },
  ) {}

  /** Counts `count` dropped rows now; logs them now or when the interval since the last line ends. */
  dropped(count: number, reason: string): void {
    if (count <= 0) return;
    this.options.events.publish('store:write-dropped', { table: this.options.name, rows: count });
    this.unlogged += count;
    this.lastReason = reason;
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastLineAt >= this.options.intervalMs) {
      this.flush();
      return;
    }
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.lastLineAt + this.options.intervalMs - now);
      this.timer.unref();
    }
  }

  /** Logs what was dropped since the last line, if anything. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.unlogged === 0) return;
    this.options.log.error(
      { writer: this.options.name, dropped: this.unlogged, reason: this.lastReason, intervalMs: this.options.intervalMs },
      'store rows dropped',
    );
    this.unlogged = 0;
    this.lastLineAt = (this.options.now ?? Date.now)();
  }
}
