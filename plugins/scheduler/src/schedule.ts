import { addDays, instantOf, wallClockOf } from './zoned-time.js';

/** kb_schedule.schedule_type */
export type ScheduleType = 'once' | 'daily' | 'weekly';
/** kb_schedule.status (the PHP admin's enum). */
export type ScheduleStatus = 'active' | 'inactive' | 'completed' | 'error';

export const WEEKDAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type WeekdayName = (typeof WEEKDAY_NAMES)[number];

/** What decides when a schedule fires: the columns of kb_schedule that next_send_at follows from. */
export interface Timing {
  readonly type: ScheduleType;
  /** `YYYY-MM-DD` (once). */
  readonly date: string | null;
  /** `HH:MM[:SS]`, one or more (schedule_times, else schedule_time). */
  readonly times: readonly string[];
  /** weekly: the days it fires on. */
  readonly weekdays: readonly WeekdayName[];
  readonly validFrom: Date | null;
  readonly validUntil: Date | null;
}

const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseTime(value: string): { hour: number; minute: number; second: number } | null {
  const m = TIME.exec(value.trim());
  if (m === null) return null;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  const second = Number(m[3] ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return null;
  return { hour, minute, second };
}

export function parseDate(value: string): { year: number; month: number; day: number } | null {
  const m = DATE.exec(value.trim());
  if (m === null) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return { year, month, day };
}

/** Candidate instants of one calendar day, in time order. */
function instantsOfDay(day: { year: number; month: number; day: number }, times: readonly string[], timeZone: string): Date[] {
  const out: Date[] = [];
  for (const t of times) {
    const p = parseTime(t);
    if (p !== null) out.push(instantOf(day.year, day.month, day.day, p.hour, p.minute, p.second, timeZone));
  }
  return out.sort((a, b) => a.getTime() - b.getTime());
}

/**
 * The first occurrence strictly after `after`, inside the validity window, or null (none left:
 * a once schedule whose time is past `after`, a weekly one without days, the window is over).
 * As the old server: daily and weekly repeat at their time(s) of day in `timeZone`.
 */
export function nextOccurrence(timing: Timing, after: Date, timeZone: string): Date | null {
  let from = after.getTime();
  if (timing.validFrom !== null && timing.validFrom.getTime() - 1 > from) from = timing.validFrom.getTime() - 1;
  const within = (d: Date) => d.getTime() > from && (timing.validUntil === null || d.getTime() <= timing.validUntil.getTime());
  if (timing.type === 'once') {
    const date = timing.date === null ? null : parseDate(timing.date);
    if (date === null) return null;
    const [first] = instantsOfDay(date, timing.times.slice(0, 1), timeZone);
    return first !== undefined && within(first) ? first : null;
  }
  const days = new Set(timing.weekdays.map((w) => WEEKDAY_NAMES.indexOf(w)));
  if (timing.type === 'weekly' && days.size === 0) return null;
  const start = wallClockOf(new Date(from), timeZone);
  for (let offset = 0; offset <= 8; offset += 1) {
    const day = addDays(start.year, start.month, start.day, offset);
    if (timing.type === 'weekly' && !days.has(day.weekday)) continue;
    for (const candidate of instantsOfDay(day, timing.times, timeZone)) {
      if (candidate.getTime() <= from) continue;
      return within(candidate) ? candidate : null;
    }
  }
  return null;
}

/**
 * The first occurrence for a schedule with no next_send_at yet (created by the CLI, the admin
 * API, or a SQL insert that left it out): a once schedule keeps its time even when it is past (its
 * catch-up policy decides), the others their next time after `now`.
 */
export function firstOccurrence(timing: Timing, now: Date, timeZone: string): Date | null {
  if (timing.type === 'once') return nextOccurrence(timing, new Date(Number.MIN_SAFE_INTEGER / 2), timeZone);
  return nextOccurrence(timing, now, timeZone);
}
