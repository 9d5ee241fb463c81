import type { PluginDatabase } from '@botbridge/sdk';
import { WEEKDAY_NAMES, type ScheduleStatus, type ScheduleType, type Timing, type WeekdayName } from './schedule.js';

/** A kb_schedule row as the driver returns it (MySQL dates as strings, SQLite TEXT). */
export interface ScheduleRow {
  readonly id: number | string;
  readonly title: string;
  readonly description: string | null;
  readonly created_by_type: string;
  readonly created_by_id: string;
  readonly created_by_mb_id: string;
  readonly target_bot_name: string;
  readonly target_room_id: string;
  /** Only in tables of the old server's later head (and those botbridge creates): the preferred phone. */
  readonly target_device_id?: string | null;
  readonly message_text: string | null;
  readonly message_images_1: unknown;
  readonly message_images_2: unknown;
  readonly send_interval_seconds: number | null;
  readonly media_wait_time_1: number | null;
  readonly media_wait_time_2: number | null;
  readonly schedule_type: string;
  readonly schedule_date: string | Date | null;
  readonly schedule_time: string;
  readonly schedule_times: unknown;
  readonly schedule_weekdays: string | null;
  readonly valid_from: string | Date;
  readonly valid_until: string | Date;
  readonly status: string | null;
  readonly last_sent_at: string | Date | null;
  readonly next_send_at: string | Date | null;
  readonly send_count: number | null;
  readonly catch_up_seconds: number | null;
}

/** One image of message_images_1/2: a file under the PHP admin's data folder, inline base64, or a URL. */
export interface ImageRef {
  readonly path?: string;
  readonly name?: string;
  readonly base64?: string;
  readonly url?: string;
}

/** A schedule as the admin API and the CLI show it (camelCase; instants as ISO strings). */
export interface ScheduleView {
  readonly id: number;
  readonly title: string;
  readonly botName: string;
  readonly roomId: string;
  readonly deviceId: string | null;
  readonly type: ScheduleType;
  readonly date: string | null;
  readonly times: readonly string[];
  readonly weekdays: readonly WeekdayName[];
  readonly validFrom: string | null;
  readonly validUntil: string | null;
  readonly status: string;
  readonly text: string | null;
  readonly images1: readonly ImageRef[];
  readonly images2: readonly ImageRef[];
  readonly sendIntervalSeconds: number;
  readonly mediaWaitMs1: number;
  readonly mediaWaitMs2: number;
  readonly catchUpSeconds: number | null;
  readonly lastSentAt: string | null;
  readonly nextSendAt: string | null;
  readonly sendCount: number;
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  if (value.trim() === '') return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

export function imagesOf(value: unknown): ImageRef[] {
  const parsed = parseJson(value);
  if (!Array.isArray(parsed)) return [];
  return parsed.filter((i): i is ImageRef => typeof i === 'object' && i !== null);
}

/** `schedule_time` plus `schedule_times` (a JSON array of `HH:MM[:SS]`, when the PHP admin wrote several). */
export function timesOf(row: Pick<ScheduleRow, 'schedule_time' | 'schedule_times'>): string[] {
  const many = parseJson(row.schedule_times);
  const list = Array.isArray(many) ? many.filter((t): t is string => typeof t === 'string' && t.trim() !== '') : [];
  return list.length > 0 ? list : [String(row.schedule_time)];
}

export function weekdaysOf(value: string | null): WeekdayName[] {
  if (value === null) return [];
  return value.split(',').map((w) => w.trim().toLowerCase()).filter((w): w is WeekdayName => (WEEKDAY_NAMES as readonly string[]).includes(w));
}

function dateString(value: string | Date | null): string | null {
  if (value === null) return null;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return value.slice(0, 10);
}

export function timingOf(row: ScheduleRow, db: PluginDatabase): Timing {
  return {
    type: row.schedule_type as ScheduleType,
    date: dateString(row.schedule_date),
    times: timesOf(row),
    weekdays: weekdaysOf(row.schedule_weekdays),
    validFrom: db.fromDb(row.valid_from),
    validUntil: db.fromDb(row.valid_until),
  };
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function viewOf(row: ScheduleRow, db: PluginDatabase): ScheduleView {
  const timing = timingOf(row, db);
  return {
    id: Number(row.id),
    title: row.title,
    botName: row.target_bot_name,
    roomId: row.target_room_id,
    deviceId: row.target_device_id ?? null,
    type: timing.type,
    date: timing.date,
    times: timing.times,
    weekdays: timing.weekdays,
    validFrom: iso(timing.validFrom),
    validUntil: iso(timing.validUntil),
    status: row.status ?? 'active',
    text: row.message_text,
    images1: imagesOf(row.message_images_1),
    images2: imagesOf(row.message_images_2),
    sendIntervalSeconds: Number(row.send_interval_seconds ?? 1),
    mediaWaitMs1: Number(row.media_wait_time_1 ?? 0),
    mediaWaitMs2: Number(row.media_wait_time_2 ?? 0),
    catchUpSeconds: row.catch_up_seconds === null ? null : Number(row.catch_up_seconds),
    lastSentAt: iso(db.fromDb(row.last_sent_at)),
    nextSendAt: iso(db.fromDb(row.next_send_at)),
    sendCount: Number(row.send_count ?? 0),
  };
}
