import type { Disposer, PluginContext } from '@botbridge/sdk';
import type { ScheduleStore } from './schedule-store.js';

/** Queued sends whose later verdict is still open, at most this many (the oldest are forgotten). */
const MAX_WATCHED = 10_000;

/**
 * A scheduled send answered `queued` is in the outbox; its log row says so. When the outbox
 * delivers it (`reply:sent` written) or expires it (`reply:result` expired), the row is amended.
 * Subscribed only while something is watched (each subscription makes the core build those
 * events for every reply). After a restart, `restore` finds the rows of the last day whose
 * parts still wait (their note and the trace ids in `api_response`).
 */
export class QueuedWatch {
  private readonly pending = new Map<string, number>();
  private off: Disposer[] = [];

  constructor(
    private readonly ctx: PluginContext,
    private readonly store: ScheduleStore,
  ) {}

  /**
   * After a restart: the recent log rows whose parts still wait in the outbox (the outbox keeps
   * its rows across restarts, with their trace ids) are watched again.
   */
  async restore(since: Date): Promise<number> {
    let restored = 0;
    for (const row of await this.store.pendingQueued(since, MAX_WATCHED)) {
      const response = typeof row.apiResponse === 'string' ? safeParse(row.apiResponse) : row.apiResponse;
      const parts = (response as { parts?: { status?: string; traceId?: string }[] } | null)?.parts ?? [];
      for (const part of parts) {
        if (part.status === 'queued' && typeof part.traceId === 'string') {
          this.watch(part.traceId, row.id);
          restored += 1;
        }
      }
    }
    return restored;
  }

  watch(traceId: string, logId: number): void {
    if (this.pending.size >= MAX_WATCHED) this.pending.delete(this.pending.keys().next().value!);
    this.pending.set(traceId, logId);
    if (this.off.length > 0) return;
    this.off = [
      this.ctx.on('reply:sent', (event) => {
        if (event.status === 'written') this.settle(event.traceId, 'success', `queued, then delivered from the outbox at ${new Date().toISOString()}`);
      }),
      this.ctx.on('reply:result', (event) => {
        if (event.status === 'expired') this.settle(event.traceId, 'failed', 'queued, then expired: no phone of the bot came back within the outbox TTL');
      }),
    ];
  }

  private settle(traceId: string, status: 'success' | 'failed', note: string): void {
    const logId = this.pending.get(traceId);
    if (logId === undefined) return;
    this.pending.delete(traceId);
    this.store.amendLog(logId, status, note).catch((error: unknown) => this.ctx.log.warn({ logId, err: error instanceof Error ? error.message : String(error) }, 'schedule log not amended'));
    if (this.pending.size === 0) {
      for (const off of this.off) void off();
      this.off = [];
    }
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
