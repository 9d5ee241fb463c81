import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, supportsTestDatabase } from '@botbridge/core/test-support';
import { definePlugin, usePlugin, type PluginDatabase } from '@botbridge/sdk';
import { createTestBridge, type TestBridge } from '@botbridge/testing';
import { createScheduler, type ScheduleService } from '../src/index.js';

/** A clock the test moves by hand (the scheduler's `now`). */
export class ManualClock {
  constructor(private ms: number) {}
  now = (): Date => new Date(this.ms);
  set(iso: string): void {
    this.ms = Date.parse(iso);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/**
 * One database shared by every bridge a test starts (restarts, two bridges at once): a temp
 * SQLite file, or a throwaway MariaDB database when BOTBRIDGE_TEST_STORE names a MySQL server.
 */
export async function sharedStore(): Promise<{ url: string; drop(): Promise<void> }> {
  const fromEnv = process.env.BOTBRIDGE_TEST_STORE;
  if (fromEnv !== undefined && supportsTestDatabase(fromEnv)) {
    const db = await createTestDatabase(fromEnv);
    return { url: db.url, drop: () => db.drop() };
  }
  const dir = await mkdtemp(join(tmpdir(), 'bb-sched-'));
  return { url: `sqlite:${join(dir, 'bridge.db')}`, drop: () => rm(dir, { recursive: true, force: true }) };
}

export interface SchedBridge {
  readonly t: TestBridge;
  readonly schedules: ScheduleService;
  readonly database: PluginDatabase;
}

export const ROOM_ID = '18445682959392711';
export const ROOM_NAME = '테스트방';

/** A test bridge with the scheduler on `clock` (polls only when the test says: runDue). */
export async function startBridge(storeUrl: string, clock: ManualClock, config: Record<string, unknown> = {}): Promise<SchedBridge> {
  let schedules: ScheduleService | undefined;
  let database: PluginDatabase | undefined;
  const probe = definePlugin({
    name: 'probe',
    inject: ['schedules'],
    setup(ctx) {
      schedules = ctx.inject('schedules');
      database = ctx.bridge.database();
    },
  });
  const t = await createTestBridge({
    plugins: [usePlugin(createScheduler({ now: clock.now }), { timeZone: 'Asia/Seoul', pollIntervalMs: 60_000, ...config }), probe],
    config: { store: { url: storeUrl }, pipeline: { replyGapMs: 0 }, ...(process.env.SCHED_DEBUG ? { log: { level: 'warn' } } : {}) },
  });
  return { t, schedules: schedules!, database: database! };
}

/** kb_rooms knows the room's name (the phone posts by name), as after its first message. */
export async function registerRoom(database: PluginDatabase, botName: string, roomId = ROOM_ID, roomName = ROOM_NAME): Promise<void> {
  const now = database.toDb(new Date());
  await database.db.insertInto('kb_rooms').values({ room_id: roomId, bot_name: botName, room_name: roomName, status: 'approved', created_at: now, updated_at: now }).execute();
}

export async function logRows(database: PluginDatabase, scheduleId: number): Promise<Record<string, unknown>[]> {
  return database.db.selectFrom('kb_schedule_logs').selectAll().where('schedule_id', '=', scheduleId).orderBy('id').execute();
}
