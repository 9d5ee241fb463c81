import type { BridgeSettings } from '@botbridge/sdk';
import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { EventBus } from '../events/bridge-events.js';
import type { RetentionTable, Store } from '../store/types.js';

const DAY_MS = 86_400_000;

/** One run deletes at most this many batches per table, so a first run on years of rows stays bounded. */
const MAX_BATCHES_PER_RUN = 1_000;

/** The first run comes this soon after start, so frequent restarts do not postpone it forever. */
const FIRST_RUN_DELAY_MS = 60_000;

export interface RetentionOptions {
  readonly settings: BridgeSettings['retention'];
  readonly store: () => Store;
  /** Where failures and deleted rows are published (and counted, as facts). */
  readonly events: EventBus;
  readonly log: CoreLogger;
}

/**
 * Deletes monitoring rows older than their table's retention, in short batches (one bounded
 * DELETE each, a yield between them) so the PHP pages reading the same tables never wait long.
 * Every table's retention is 0 (keep forever) by default: other tools read these tables, and
 * deleting their history is the operator's decision.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(private readonly options: RetentionOptions) {}

  /** Tables with a retention, and their days. */
  policies(): [RetentionTable, number][] {
    const { chatLogDays, pingDays, systemDays } = this.options.settings;
    const all: [RetentionTable, number][] = [['kb_chat_logs', chatLogDays], ['kb_ping_monitor', pingDays], ['kb_system_monitor', systemDays]];
    return all.filter(([, days]) => days > 0);
  }

  start(): void {
    if (this.policies().length === 0) return;
    this.stopped = false;
    this.schedule(Math.min(FIRST_RUN_DELAY_MS, this.options.settings.intervalMs));
  }

  /** Stops scheduling and waits for a run in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Deletes what has expired now; returns the rows deleted per table. */
  async runOnce(now: Date = new Date()): Promise<Partial<Record<RetentionTable, number>>> {
    const deleted: Partial<Record<RetentionTable, number>> = {};
    for (const [table, days] of this.policies()) {
      const before = new Date(now.getTime() - days * DAY_MS);
      let total = 0;
      try {
        for (let batch = 0; batch < MAX_BATCHES_PER_RUN && !this.stopped; batch += 1) {
          const n = await this.options.store().deleteOlderThan(table, before, this.options.settings.batchSize);
          total += n;
          if (n < this.options.settings.batchSize) break;
          await new Promise((resolve) => setImmediate(resolve));
        }
      } catch (error) {
        this.options.events.publish('store:error', { operation: `retention_${table}` });
        this.options.log.warn({ table, err: reasonOf(error) }, 'retention run failed; will retry at the next interval');
      }
      deleted[table] = total;
      if (total > 0) {
        this.options.events.publish('store:retention-deleted', { table, rows: total });
        this.options.log.info({ table, rows: total, before: before.toISOString() }, 'expired rows deleted');
      }
    }
    return deleted;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => {
        this.running = null;
        if (!this.stopped) this.schedule(this.options.settings.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }
}
