import type { PluginDatabase } from '@botbridge/sdk';
import { firstOccurrence } from './schedule.js';
import { parseInput, scheduleInput, schedulePatch, type SchedulePatch } from './schedule-input.js';
import { timingOf, viewOf, type ScheduleView } from './schedule-row.js';
import type { ScheduleStore } from './schedule-store.js';
import type { TickReport } from './scheduler.js';

/**
 * The `schedules` service: what the admin API (`/api/schedules`, core/src/http/routes/
 * schedule-routes.ts) and through it the CLI and the dashboard do with schedules. Inputs are
 * validated here (ScheduleInputError: 400); next_send_at is computed here with the plugin's
 * time zone, so every writer agrees with the poller.
 */
export interface ScheduleService {
  list(filter?: { botName?: string; status?: string }): Promise<ScheduleView[]>;
  get(id: number): Promise<ScheduleView | undefined>;
  create(input: unknown): Promise<ScheduleView>;
  update(id: number, patch: unknown): Promise<ScheduleView | undefined>;
  pause(id: number): Promise<ScheduleView | undefined>;
  /** Active again, next_send_at recomputed from now (also frees a row an old server left claimed). */
  resume(id: number): Promise<ScheduleView | undefined>;
  remove(id: number): Promise<boolean>;
  logs(id: number, limit?: number): Promise<Record<string, unknown>[]>;
  /** Polls now (tests, and the admin API's "run due schedules now"). */
  runDue(): Promise<TickReport>;
}

declare module '@botbridge/sdk' {
  interface BridgeServices {
    schedules: ScheduleService;
  }
}

const FAR_FUTURE = new Date('2099-12-31T23:59:59Z');

export function createScheduleService(deps: {
  readonly store: ScheduleStore;
  readonly database: PluginDatabase;
  readonly runDue: () => Promise<TickReport>;
  readonly now: () => Date;
  readonly timeZone: string;
}): ScheduleService {
  const { store, database } = deps;
  const view = async (id: number) => {
    const row = await store.get(id);
    return row === undefined ? undefined : viewOf(row, database);
  };
  /** Column values of the fields present in a patch (or a whole input). */
  const columns = (p: SchedulePatch): Record<string, unknown> => {
    const v: Record<string, unknown> = {};
    if (p.title !== undefined) v.title = p.title;
    if (p.description !== undefined) v.description = p.description;
    if (p.botName !== undefined) v.target_bot_name = p.botName;
    if (p.roomId !== undefined) v.target_room_id = p.roomId;
    // Only when given: an operator's table from the first DDL has no such column.
    if (p.deviceId !== undefined) v.target_device_id = p.deviceId;
    if (p.type !== undefined) v.schedule_type = p.type;
    if (p.date !== undefined) v.schedule_date = p.date;
    if (p.times !== undefined) {
      v.schedule_time = normaliseTime(p.times[0]!);
      v.schedule_times = p.times.length > 1 ? JSON.stringify(p.times.map(normaliseTime)) : null;
    }
    if (p.weekdays !== undefined) v.schedule_weekdays = p.weekdays.join(',');
    if (p.validFrom !== undefined) v.valid_from = store.time(new Date(p.validFrom));
    if (p.validUntil !== undefined) v.valid_until = store.time(new Date(p.validUntil));
    if (p.text !== undefined) v.message_text = p.text;
    if (p.images1 !== undefined) v.message_images_1 = JSON.stringify(p.images1);
    if (p.images2 !== undefined) v.message_images_2 = JSON.stringify(p.images2);
    if (p.sendIntervalSeconds !== undefined) v.send_interval_seconds = p.sendIntervalSeconds;
    if (p.mediaWaitMs1 !== undefined) v.media_wait_time_1 = p.mediaWaitMs1;
    if (p.mediaWaitMs2 !== undefined) v.media_wait_time_2 = p.mediaWaitMs2;
    if (p.catchUpSeconds !== undefined) v.catch_up_seconds = p.catchUpSeconds;
    return v;
  };
  /** next_send_at from now for a row as it is after a change; null status `completed`. */
  const replan = async (id: number): Promise<void> => {
    const row = await store.get(id);
    if (row === undefined) return;
    const next = firstOccurrence(timingOf(row, database), deps.now(), deps.timeZone);
    await store.update(id, next === null
      ? { next_send_at: null, status: row.status === 'active' ? 'completed' : row.status, updated_at: store.time(deps.now()) }
      : { next_send_at: store.time(next), updated_at: store.time(deps.now()) });
  };
  return {
    async list(filter = {}) {
      return (await store.list(filter)).map((row) => viewOf(row, database));
    },
    get: view,
    async create(input) {
      const s = parseInput(scheduleInput, input);
      const now = deps.now();
      const id = await store.insert({
        ...columns(s),
        created_by_type: 'distributor',
        created_by_id: s.createdBy ?? 'botbridge',
        created_by_mb_id: s.createdBy ?? 'botbridge',
        valid_from: store.time(s.validFrom === undefined ? now : new Date(s.validFrom)),
        valid_until: store.time(s.validUntil === undefined ? FAR_FUTURE : new Date(s.validUntil)),
        status: 'active',
        send_count: 0,
        created_at: store.time(now),
        updated_at: store.time(now),
      });
      await replan(id);
      return (await view(id))!;
    },
    async update(id, patch) {
      const p = parseInput(schedulePatch, patch);
      if (!(await store.update(id, { ...columns(p), updated_at: store.time(deps.now()) }))) return undefined;
      await replan(id);
      return view(id);
    },
    async pause(id) {
      if (!(await store.update(id, { status: 'inactive', updated_at: store.time(deps.now()) }))) return undefined;
      return view(id);
    },
    async resume(id) {
      if (!(await store.update(id, { status: 'active', updated_at: store.time(deps.now()) }))) return undefined;
      await replan(id);
      return view(id);
    },
    remove: (id) => store.remove(id),
    logs: (id, limit) => store.logs(id, limit),
    runDue: deps.runDue,
  };
}

function normaliseTime(t: string): string {
  const [h = '0', m = '0', s = '0'] = t.split(':');
  return `${h.padStart(2, '0')}:${m.padStart(2, '0')}:${s.padStart(2, '0')}`;
}
