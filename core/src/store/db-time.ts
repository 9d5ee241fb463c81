/**
 * One timestamp representation for every dialect: UTC `YYYY-MM-DD HH:MM:SS.mmm`.
 *
 * Why a string and not a number or a driver `Date`: MySQL DATETIME(3) accepts exactly this literal
 * and stores it without a time zone conversion (the MySQL store sets its session time zone to
 * UTC), SQLite stores it as TEXT, and fixed-width strings compare in time order, so `updated_at >=
 * ?` works the same on both. Millisecond precision keeps the approval change feed exact.
 */

const DB_TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z?$/;

export function toDbTime(date: Date): string {
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
