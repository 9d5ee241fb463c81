import { definePlugin } from '@botbridge/sdk';
import { schedulerConfig } from './config.js';
import { SCHEDULER_MIGRATIONS } from './migrations.js';
import { ScheduleStore } from './schedule-store.js';
import { Scheduler, type TickReport } from './scheduler.js';
import { createScheduleService } from './service.js';
import { QueuedWatch } from './queued-watch.js';

export interface SchedulerOptions {
  /** The scheduler's clock (tests inject one so they do not wait real days). Default: the system clock. */
  readonly now?: () => Date;
}

/**
 * The scheduler plugin: sends kb_schedule's messages (the old server's tables, shared with its
 * PHP admin) at their times, exactly once across restarts and processes. `createScheduler` makes
 * one with its own clock; `scheduler` runs on the system clock.
 */
export function createScheduler(options: SchedulerOptions = {}) {
  const now = options.now ?? (() => new Date());
  return definePlugin({
    name: 'scheduler',
    version: '0.1.0',
    config: schedulerConfig,
    async setup(ctx, config) {
      const database = ctx.bridge.database();
      const applied = await database.migrate('scheduler', SCHEDULER_MIGRATIONS);
      if (applied.length > 0) ctx.log.info({ migrations: applied }, 'scheduler tables ready');
      const store = new ScheduleStore(database);
      const queued = new QueuedWatch(ctx, store);
      // Outbox rows outlive restarts; their log rows are amended by whichever process delivers them.
      await queued.restore(new Date(now().getTime() - 86_400_000));
      const sleeps = new Set<() => void>();
      ctx.effect(() => {
        for (const wake of sleeps) wake();
      });
      const scheduler = new Scheduler({
        store, database, bridge: ctx.bridge, log: ctx.log, now,
        settings: { timeZone: config.timeZone, catchUpSeconds: config.catchUpSeconds, imageRoot: config.imageRoot, batchSize: config.batchSize },
        sleep: (ms) => new Promise<void>((resolve) => {
          const done = () => {
            sleeps.delete(done);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(done, ms);
          sleeps.add(done);
        }),
        watchQueued: (traceId, logId) => queued.watch(traceId, logId),
      });
      const handled = ctx.metrics.counter({
        name: 'botbridge_scheduler_occurrences_total',
        help: 'Schedule occurrences handled by this process: sent (whatever the send result; see kb_schedule_logs), skipped (past the catch-up window), lost (another process claimed it first), failed (store error, retried).',
        labelNames: ['outcome'],
      });
      const count = (report: TickReport) => {
        for (const outcome of ['sent', 'skipped', 'lost', 'failed'] as const) if (report[outcome] > 0) handled.inc({ outcome }, report[outcome]);
      };
      const runDue = () => scheduler.tick().then((report) => {
        count(report);
        return report;
      });
      ctx.provide('schedules', () => createScheduleService({ store, database, runDue, now, timeZone: config.timeZone }));
      let stopped = false;
      ctx.effect(() => {
        stopped = true;
      });
      // One warning per outage (the store down), not one per poll.
      let failing = false;
      const poll = () => {
        // A poll still running (slow store, many sends) is not queued behind: the next timer tick tries again.
        if (stopped || scheduler.busy) return;
        runDue().then(
          () => {
            if (failing) ctx.log.info('schedule polls work again');
            failing = false;
          },
          (error: unknown) => {
            if (!failing) ctx.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'schedule poll failed; retried at every poll until it works');
            failing = true;
          },
        );
      };
      // The first poll once the bridge listens (phones may still be connecting: a send for a bot
      // with no phone yet is queued in the outbox, not lost).
      ctx.on('onStart', () => {
        ctx.setTimeout(poll, 0);
      });
      ctx.setInterval(poll, config.pollIntervalMs);
    },
  });
}

export const scheduler = createScheduler();
