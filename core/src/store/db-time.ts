/**
 * One timestamp representation for every dialect: UTC `YYYY-MM-DD HH:MM:SS.mmm`.
 *
 * Why a string and not a number or a driver `Date`: MySQL DATETIME(3) accepts exactly this literal
 * and stores it without a time zone conversion (the MySQL store sets its session time zone to
 * UTC), SQLite stores it as TEXT, and fixed-width strings compare in time order, so `updated_at >=
 * ?` works the same on both. Millisecond precision keeps the approval change feed exact.
 */

const DB_TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z?$/;

/** `000` … `999`: the milliseconds part of a DB timestamp. */
const MILLIS = Array.from({ length: 1_000 }, (_, ms) => String(ms).padStart(3, '0'));
/** The instants of 4-digit years (0000-01-01 to 9999-12-31), where the cached prefix applies. */
const MIN_FAST_MS = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_FAST_MS = Date.parse('+010000-01-01T00:00:00.000Z');
let cachedSecond = Number.NaN;
let cachedPrefix = '';

export function toDbTime(date: Date): string {
  // Every row of a batch (chat log, journal) is stamped within the same few seconds: the
  // `YYYY-MM-DD HH:MM:SS.` prefix is formatted once per second, the milliseconds appended.
  const ms = date.getTime();
  if (!(ms >= MIN_FAST_MS && ms < MAX_FAST_MS)) return isoDbTime(date);
  const second = Math.floor(ms / 1_000);
  if (second !== cachedSecond) {
    cachedPrefix = isoDbTime(date).slice(0, 20);
    cachedSecond = second;
  }
  return cachedPrefix + MILLIS[ms - second * 1_000]!;
}

function isoDbTime(date: Date): string {
  // toISOString is always UTC with milliseconds: 2025-07-15T08:00:00.123Z
  return date.toISOString().slice(0, 23).replace('T', ' ');
}

/** Reads a timestamp column: a UTC string written by toDbTime, or a `Date` from mysql2. */
export function fromDbTime(value: string | Date): Date {
  if (value instanceof Date) return value;
  const match = DB_TIME_PATTERN.exec(value);
  if (match === null) throw new RangeError(`not a database timestamp: ${JSON.stringify(value)}`);
  const [, year, month, day, hour, minute, second, fraction = '0'] = match;
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  return new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), millis));
}

export function fromNullableDbTime(value: string | Date | null): Date | null {
  return value === null ? null : fromDbTime(value);
}

/** MySQL's zero date (old rows written in non-strict mode); it reads as "unknown". */
const ZERO_DATE = /^0000-00-00/;

/**
 * Converts between instants and the wall-clock strings a database holds. SQLite always holds
 * UTC. A MySQL database shared with PHP pages and the old Python server holds its server's
 * local time (they write `NOW()` and `datetime.now()`), so the MySQL store writes and reads at
 * the offset of its session time zone; otherwise every row it writes would look hours off in
 * the operator's charts, and `updated_at` stamps written by `ON UPDATE CURRENT_TIMESTAMP` could
 * not be compared with ours.
 */
export class DbClock {
  readonly offsetMinutes: number;

  constructor(offsetMinutes = 0) {
    this.offsetMinutes = offsetMinutes;
  }

  toDb(date: Date): string {
    return this.offsetMinutes === 0 ? toDbTime(date) : toDbTime(new Date(date.getTime() + this.offsetMinutes * 60_000));
  }

  /** Null, a zero date or an unparseable value reads as null (the column is someone else's too). */
  fromDb(value: string | Date | null | undefined): Date | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string' && ZERO_DATE.test(value)) return null;
    let parsed: Date;
    try {
      parsed = fromDbTime(value);
    } catch {
      return null;
    }
    return value instanceof Date ? parsed : new Date(parsed.getTime() - this.offsetMinutes * 60_000);
  }
}

export const UTC_CLOCK = new DbClock(0);

/** `+09:00` style offset of a clock, as MySQL's `SET time_zone` takes it. */
export function offsetLabel(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Parses `UTC`, `Z` or `±HH:MM`; undefined for anything else. */
export function parseOffset(label: string): number | undefined {
  if (/^(utc|z)$/i.test(label)) return 0;
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(label);
  if (match === null) return undefined;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  if (Number(match[2]) > 14 || Number(match[3]) > 59) return undefined;
  return match[1] === '-' ? -minutes : minutes;
}
