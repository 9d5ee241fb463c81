import { sql, type Kysely } from 'kysely';
import type { PluginDatabase } from '@botbridge/sdk';
import type { ScheduleRow } from './schedule-row.js';

/** kb_schedule_logs.status (the PHP admin's enum). */
export type LogStatus = 'success' | 'failed' | 'partial';

/** What a claim writes into its log row before the send (the result follows in `finishLog`). */
export interface LogStart {
  readonly text: string | null;
  readonly images1: string | null;
  readonly images2: string | null;
  readonly components: string;
}

/** How a log row notes a part kept in the outbox (scheduler.ts); QueuedWatch finds such rows again after a restart. */
export const QUEUED_NOTE = 'queued (no phone of the bot connected; delivered from the outbox when one is back)';

/** The text a log row holds between its claim and its result: left like this, the process stopped mid-send. */
export const CLAIMED_NOTE = 'claimed; sending (if this stays, the process stopped before the result was known)';

/**
 * Every query of the scheduler, written once for SQLite and MySQL. Timestamps are written at
 * second precision (`YYYY-MM-DD HH:MM:SS`, what the old server and the PHP admin write into
 * their DATETIME columns), in the store's clock.
 *
 * Exactly once: a send is claimed by one conditional UPDATE that moves `next_send_at` on (and
 * sets `last_sent_at`, `send_count`) only while the row still holds the `next_send_at` this
 * process read. Of several processes (restarts, two servers, cluster nodes) reading the same due
 * row, exactly one UPDATE matches; the others see 0 rows and leave it. The condition also keeps
 * the old server's own claim (`last_sent_at < next_send_at`), so the two never both send.
 */
export class ScheduleStore {
  readonly db: Kysely<any>;

  constructor(private readonly database: PluginDatabase) {
    this.db = database.db;
  }

  /**
   * The claim and its log row in one transaction on MySQL. On SQLite they run as two statements
   * without one: better-sqlite3 waits for a lock synchronously, so a transaction held open across
   * an await can block the event loop of a second connection in the same process until its busy
   * timeout (two bridges in one test process). The claim alone is one atomic UPDATE either way;
   * a process killed between the two statements leaves the occurrence claimed without its log row.
   */
  private atomically<T>(work: (db: Kysely<any>) => Promise<T>): Promise<T> {
    return this.database.dialect === 'mysql' ? this.db.transaction().execute(work) : work(this.db);
  }

  time(date: Date): string {
    return this.database.toDb(date).slice(0, 19);
  }

  /** Active rows due at `now` and not claimed, oldest first. */
  async due(now: Date, limit: number): Promise<ScheduleRow[]> {
    return (await this.db.selectFrom('kb_schedule').selectAll()
      .where('status', '=', 'active')
      .where('next_send_at', 'is not', null)
      .where('next_send_at', '<=', this.time(now))
      .where((eb) => eb.or([eb('last_sent_at', 'is', null), eb('last_sent_at', '<', eb.ref('next_send_at'))]))
      .orderBy('next_send_at').orderBy('id')
      .limit(limit)
      .execute()) as ScheduleRow[];
  }

  /** Active rows without a next_send_at (written by SQL or an old PHP page that leaves it out). */
  async unplanned(limit: number): Promise<ScheduleRow[]> {
    return (await this.db.selectFrom('kb_schedule').selectAll()
      .where('status', '=', 'active').where('next_send_at', 'is', null)
      .orderBy('id').limit(limit).execute()) as ScheduleRow[];
  }

  /** Sets the first next_send_at of an unplanned row, or completes it when it has none. */
  async plan(id: number, next: Date | null, now: Date): Promise<boolean> {
    const set = next === null ? { status: 'completed', updated_at: this.time(now) } : { next_send_at: this.time(next), updated_at: this.time(now) };
    const result = await this.db.updateTable('kb_schedule').set(set)
      .where('id', '=', id).where('status', '=', 'active').where('next_send_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Claims the occurrence `row.next_send_at` for this process and opens its log row, in one
   * transaction. Returns the log row's id, or null when another process claimed it first.
   * `next` null: the schedule is over (once, or its validity window ends): status `completed`.
   */
  async claim(row: ScheduleRow, now: Date, next: Date | null, log: LogStart): Promise<number | null> {
    return this.atomically(async (tx) => {
      const result = await tx.updateTable('kb_schedule')
        .set((eb) => ({
          last_sent_at: this.time(now),
          send_count: eb(eb.fn.coalesce('send_count', sql.lit(0)), '+', 1),
          updated_at: this.time(now),
          ...(next === null ? { status: 'completed' } : { next_send_at: this.time(next) }),
        }))
        .where('id', '=', Number(row.id))
        .where('status', '=', 'active')
        .where('next_send_at', '=', row.next_send_at as string)
        .where((eb) => eb.or([eb('last_sent_at', 'is', null), eb('last_sent_at', '<', eb.ref('next_send_at'))]))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return null;
      const inserted = await tx.insertInto('kb_schedule_logs').values({
        schedule_id: Number(row.id),
        target_room_id: row.target_room_id,
        sent_message_text: log.text,
        sent_images_1: log.images1,
        sent_images_2: log.images2,
        send_components: log.components,
        status: 'failed',
        error_message: CLAIMED_NOTE,
        scheduled_at: this.time(this.database.fromDb(row.next_send_at) ?? now),
        started_at: this.time(now),
        created_at: this.time(now),
      }).executeTakeFirst();
      return Number(inserted.insertId ?? 0);
    });
  }

  /** Moves a row's next_send_at that lies before its valid_from (a SQL write) to its first valid occurrence. */
  async reschedule(row: ScheduleRow, next: Date | null, now: Date): Promise<boolean> {
    const result = await this.db.updateTable('kb_schedule')
      .set({ updated_at: this.time(now), ...(next === null ? { status: 'completed' } : { next_send_at: this.time(next) }) })
      .where('id', '=', Number(row.id)).where('status', '=', 'active').where('next_send_at', '=', row.next_send_at as string)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Skips a missed occurrence (found later than its catch-up window): moves next_send_at on
   * without sending and logs the skip, under the same claim condition. Returns false when
   * another process handled the occurrence first.
   */
  async skip(row: ScheduleRow, now: Date, next: Date | null, reason: string): Promise<boolean> {
    return this.atomically(async (tx) => {
      const result = await tx.updateTable('kb_schedule')
        .set({ updated_at: this.time(now), ...(next === null ? { status: 'completed' } : { next_send_at: this.time(next) }) })
        .where('id', '=', Number(row.id))
        .where('status', '=', 'active')
        .where('next_send_at', '=', row.next_send_at as string)
        .where((eb) => eb.or([eb('last_sent_at', 'is', null), eb('last_sent_at', '<', eb.ref('next_send_at'))]))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await tx.insertInto('kb_schedule_logs').values({
        schedule_id: Number(row.id),
        target_room_id: row.target_room_id,
        send_components: '',
        status: 'failed',
        error_message: reason,
        api_response: JSON.stringify({ result: 'skipped' }),
        scheduled_at: this.time(this.database.fromDb(row.next_send_at) ?? now),
        started_at: this.time(now),
        completed_at: this.time(now),
        duration_ms: 0,
        created_at: this.time(now),
      }).execute();
      return true;
    });
  }

  async finishLog(id: number, result: { status: LogStatus; error: string | null; response: unknown; completedAt: Date; durationMs: number }): Promise<void> {
    await this.db.updateTable('kb_schedule_logs').set({
      status: result.status,
      error_message: result.error,
      api_response: JSON.stringify(result.response),
      completed_at: this.time(result.completedAt),
      duration_ms: Math.round(result.durationMs),
    }).where('id', '=', id).execute();
  }

  /** Log rows of recent sends still waiting in the outbox (their note says `queued (…)`), to watch again after a restart. */
  async pendingQueued(since: Date, limit: number): Promise<{ id: number; apiResponse: unknown }[]> {
    const rows = await this.db.selectFrom('kb_schedule_logs').select(['id', 'api_response'])
      // (status, scheduled_at) is the old table's idx_status_time: a bounded range, not a scan of every log row.
      .where('status', 'in', ['success', 'partial'])
      .where('scheduled_at', '>=', this.time(since))
      .where('error_message', 'like', `%${QUEUED_NOTE}%`)
      .orderBy('id').limit(limit).execute() as { id: number | string; api_response: unknown }[];
    return rows.map((r) => ({ id: Number(r.id), apiResponse: r.api_response }));
  }

  /** A later verdict on a queued send (delivered from the outbox, or expired there). */
  async amendLog(id: number, status: LogStatus, error: string | null): Promise<void> {
    await this.db.updateTable('kb_schedule_logs').set({ status, error_message: error }).where('id', '=', id).execute();
  }

  /** The room's name as kb_rooms knows it (the phone posts by name); the old server's `<channelId>_<bot>` key too. */
  async roomName(botName: string, roomId: string): Promise<string | null> {
    const row = await this.db.selectFrom('kb_rooms').select('room_name')
      .where('bot_name', '=', botName).where('room_id', 'in', [roomId, `${roomId}_${botName}`])
      .limit(1).executeTakeFirst() as { room_name: string } | undefined;
    return row?.room_name ?? null;
  }

  async get(id: number): Promise<ScheduleRow | undefined> {
    return (await this.db.selectFrom('kb_schedule').selectAll().where('id', '=', id).executeTakeFirst()) as ScheduleRow | undefined;
  }

  async list(filter: { botName?: string; status?: string } = {}, limit = 500): Promise<ScheduleRow[]> {
    let q = this.db.selectFrom('kb_schedule').selectAll();
    if (filter.botName !== undefined) q = q.where('target_bot_name', '=', filter.botName);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    return (await q.orderBy('id').limit(limit).execute()) as ScheduleRow[];
  }

  async insert(values: Record<string, unknown>): Promise<number> {
    const result = await this.db.insertInto('kb_schedule').values(values).executeTakeFirst();
    return Number(result.insertId ?? 0);
  }

  async update(id: number, values: Record<string, unknown>): Promise<boolean> {
    const result = await this.db.updateTable('kb_schedule').set(values).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Deletes the schedule and its log rows (the old table's ON DELETE CASCADE, which SQLite lacks here). */
  async remove(id: number): Promise<boolean> {
    return this.atomically(async (tx) => {
      await tx.deleteFrom('kb_schedule_logs').where('schedule_id', '=', id).execute();
      const result = await tx.deleteFrom('kb_schedule').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    });
  }

  async logs(scheduleId: number, limit = 50): Promise<Record<string, unknown>[]> {
    return this.db.selectFrom('kb_schedule_logs').selectAll().where('schedule_id', '=', scheduleId).orderBy('id', 'desc').limit(limit).execute();
  }
}
