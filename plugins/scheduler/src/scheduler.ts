import type { BridgeApi, Logger, SendResult } from '@botbridge/sdk';
import { CLAIMED_NOTE, QUEUED_NOTE, type LogStatus, type ScheduleStore } from './schedule-store.js';
import type { ScheduleRow } from './schedule-row.js';
import { timingOf } from './schedule-row.js';
import { firstOccurrence, nextOccurrence } from './schedule.js';
import { imagesSummary, partsOf, type Part } from './parts.js';
import type { PluginDatabase } from '@botbridge/sdk';

export interface SchedulerSettings {
  readonly timeZone: string;
  /** Default catch-up window (a row's catch_up_seconds overrides it). */
  readonly catchUpSeconds: number;
  readonly imageRoot: string | null;
  readonly batchSize: number;
}

/** What one poll did, for tests and the debug log. */
export interface TickReport {
  planned: number;
  sent: number;
  skipped: number;
  /** Due rows another process claimed first. */
  lost: number;
  failed: number;
}

/** An occurrence is always sent when found within this much of its time, whatever its window. */
export const MIN_CATCH_UP_SECONDS = 60;

export interface SchedulerDeps {
  readonly store: ScheduleStore;
  readonly database: PluginDatabase;
  readonly bridge: Pick<BridgeApi, 'send'>;
  readonly log: Logger;
  readonly now: () => Date;
  readonly settings: SchedulerSettings;
  /** Waits between image groups (send_interval_seconds); aborted when the plugin stops. */
  readonly sleep: (ms: number) => Promise<void>;
  /** A send answered `queued`: its later verdict (delivered, expired) amends the log row. */
  readonly watchQueued: (traceId: string, logId: number) => void;
}

/**
 * One poll of kb_schedule: plan rows without next_send_at, then handle each due row once:
 * - found within its catch-up window (`catch_up_seconds`, default the plugin's
 *   `catchUpSeconds`, never less than a minute): claimed (schedule-store.ts, exactly once), sent
 *   part by part through `ctx.bridge.send` as a scheduled message, and its log row finished with
 *   the honest result;
 * - found later (the server was down): skipped and logged, next_send_at moved to the next
 *   occurrence after now.
 * Polls never overlap within a process; several processes are kept apart by the claim.
 */
export class Scheduler {
  private running: Promise<TickReport> | null = null;
  private pending = 0;

  constructor(private readonly deps: SchedulerDeps) {}

  /** A poll is running or waiting for one that runs. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Polls once, after any poll still running (never two at a time in one process). */
  tick(): Promise<TickReport> {
    this.pending += 1;
    const next = (this.running ?? Promise.resolve(null)).catch(() => null).then(() => this.poll()).finally(() => {
      this.pending -= 1;
    });
    this.running = next;
    return next;
  }

  private async poll(): Promise<TickReport> {
    const { store, settings } = this.deps;
    const report: TickReport = { planned: 0, sent: 0, skipped: 0, lost: 0, failed: 0 };
    for (const row of await store.unplanned(settings.batchSize)) {
      const next = firstOccurrence(timingOf(row, this.deps.database), this.deps.now(), settings.timeZone);
      if (await store.plan(Number(row.id), next, this.deps.now())) report.planned += 1;
    }
    for (const row of await store.due(this.deps.now(), settings.batchSize)) {
      try {
        await this.handle(row, report);
      } catch (error) {
        report.failed += 1;
        this.deps.log.error({ scheduleId: Number(row.id), err: error instanceof Error ? error.message : String(error) }, 'schedule not handled; retried at the next poll');
      }
    }
    return report;
  }

  private async handle(row: ScheduleRow, report: TickReport): Promise<void> {
    const { store, database, settings, log } = this.deps;
    const now = this.deps.now();
    const due = database.fromDb(row.next_send_at);
    if (due === null) return;
    const timing = timingOf(row, database);
    const windowSeconds = Math.max(MIN_CATCH_UP_SECONDS, row.catch_up_seconds ?? settings.catchUpSeconds);
    const lateMs = now.getTime() - due.getTime();
    if (timing.validFrom !== null && due.getTime() < timing.validFrom.getTime()) {
      // Written by SQL before its window opens (the old server waited for valid_from as well).
      await store.reschedule(row, nextOccurrence(timing, due, settings.timeZone), now);
      return;
    }
    const expired = timing.validUntil !== null && now.getTime() > timing.validUntil.getTime();
    // After a long downtime a later occurrence may be due too: only the latest is sent late.
    const next = nextOccurrence(timing, due, settings.timeZone);
    const superseded = next !== null && next.getTime() <= now.getTime();
    if (lateMs > windowSeconds * 1000 || expired || superseded) {
      const reason = expired
        ? `skipped: due at ${due.toISOString()}, found after its validity ended (${timing.validUntil!.toISOString()})`
        : lateMs > windowSeconds * 1000
          ? `skipped: due at ${due.toISOString()}, found ${Math.round(lateMs / 1000)} s late, beyond its catch-up window of ${windowSeconds} s (the server was down)`
          : `skipped: due at ${due.toISOString()}, superseded by the occurrence at ${next!.toISOString()}, also due (the server was down)`;
      // On to the first occurrence still inside the window (handled at the next poll: sent, or
      // superseded in turn), else the first after now. A long downtime costs one skip row, plus
      // one per occurrence inside the window, not one per missed day.
      const windowStart = new Date(now.getTime() - windowSeconds * 1000 - 1);
      const after = nextOccurrence(timing, due.getTime() > windowStart.getTime() ? due : windowStart, settings.timeZone);
      if (await store.skip(row, now, after, reason)) {
        report.skipped += 1;
        log.warn({ scheduleId: Number(row.id), due: due.toISOString(), lateSeconds: Math.round(lateMs / 1000), windowSeconds }, 'scheduled message skipped');
      } else report.lost += 1;
      return;
    }
    const components = [row.message_text ? 'text' : null, imagesSummary(row.message_images_1) ? 'images_1' : null, imagesSummary(row.message_images_2) ? 'images_2' : null].filter((c) => c !== null).join(',');
    const logId = await store.claim(row, now, next, {
      text: row.message_text, images1: imagesSummary(row.message_images_1), images2: imagesSummary(row.message_images_2), components,
    });
    if (logId === null) {
      report.lost += 1;
      return;
    }
    const started = this.deps.now();
    let results: PartResult[];
    try {
      results = await this.send(row, logId);
    } catch (error) {
      // Claimed, so not retried (at most once); the log row says what happened.
      results = [{ component: 'all', status: 'rejected', reason: `send failed: ${error instanceof Error ? error.message : String(error)}` }];
    }
    const outcome = summarise(results);
    await store.finishLog(logId, {
      status: outcome.status, error: outcome.error, response: { result: outcome.result, parts: results },
      completedAt: this.deps.now(), durationMs: this.deps.now().getTime() - started.getTime(),
    });
    report.sent += 1;
    log.info({ scheduleId: Number(row.id), due: due.toISOString(), result: outcome.result, next: next?.toISOString() ?? null }, 'scheduled message sent');
  }

  /** Sends the parts in order; one entry per part with its SendResult (or why it was not sent). */
  private async send(row: ScheduleRow, logId: number): Promise<PartResult[]> {
    const { store, settings } = this.deps;
    const parts = await partsOf(row, settings.imageRoot);
    if (parts.length === 0) return [{ component: 'none', status: 'rejected', reason: 'nothing to send (no text and no images)' }];
    const room = await store.roomName(row.target_bot_name, row.target_room_id);
    if (room === null) return parts.map((p) => ({ component: p.component, status: 'rejected', reason: `room ${row.target_room_id} of ${row.target_bot_name} is not in kb_rooms` }));
    // The row's device is preferred; the core falls back to another live phone of the bot, then the outbox.
    const deviceId = row.target_device_id === undefined || row.target_device_id === null || row.target_device_id === '' ? null : row.target_device_id;
    const target = { botName: row.target_bot_name, room, channelId: row.target_room_id, deviceId };
    const out: PartResult[] = [];
    let previous: Part | null = null;
    for (const part of parts) {
      if (part.reply === null) {
        out.push({ component: part.component, status: 'rejected', reason: part.error ?? 'invalid' });
        continue;
      }
      // As the old server: send_interval_seconds only between the two image groups, and only when the first went out.
      if (previous?.component === 'images_1' && part.component === 'images_2' && out.at(-1)?.status === 'written') {
        await this.deps.sleep(Math.max(0, Number(row.send_interval_seconds ?? 1)) * 1000);
      }
      const result = await this.deps.bridge.send(target, part.reply, { scheduled: true });
      if (result.status === 'queued') this.deps.watchQueued(result.traceId, logId);
      out.push(partResult(part.component, result));
      previous = part;
    }
    return out;
  }
}

export interface PartResult {
  readonly component: string;
  /** The reply path's SendResult status, or `rejected` for a part that could not be built. */
  readonly status: SendResult['status'];
  readonly traceId?: string;
  readonly deviceId?: string;
  readonly reason?: string;
}

function partResult(component: string, result: SendResult): PartResult {
  switch (result.status) {
    case 'written': return { component, status: 'written', traceId: result.traceId, deviceId: result.deviceId };
    case 'rejected': return { component, status: 'rejected', traceId: result.traceId, reason: result.reason };
    case 'dropped': return { component, status: 'dropped', traceId: result.traceId, reason: `dropped by ${result.plugin ?? 'a beforeReply handler'}` };
    default: return { component, status: result.status, traceId: result.traceId };
  }
}

/**
 * The log row's status from the parts' results: `success` when every part was written (or kept
 * in the outbox: `queued`, delivered when a phone of the bot is back, amended if it expires),
 * `failed` when none was, `partial` otherwise. `error_message` names what was not written.
 */
export function summarise(results: readonly PartResult[]): { status: LogStatus; result: string; error: string | null } {
  const ok = results.filter((r) => r.status === 'written' || r.status === 'queued');
  const status: LogStatus = ok.length === results.length ? 'success' : ok.length === 0 ? 'failed' : 'partial';
  const statuses = [...new Set(results.map((r) => r.status))];
  const result = statuses.length === 1 ? statuses[0]! : statuses.join(',');
  const notes = results.filter((r) => r.status !== 'written').map((r) =>
    r.status === 'queued'
      ? `${r.component}: ${QUEUED_NOTE}`
      : `${r.component}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
  return { status, result, error: notes.length === 0 ? null : notes.join('; ') };
}

export { CLAIMED_NOTE };
