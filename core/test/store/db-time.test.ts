import { describe, expect, it } from 'vitest';
import { fromDbTime, toDbTime } from '../../src/store/db-time.js';

describe('db-time', () => {
  it('writes UTC with milliseconds and reads it back exactly', () => {
    const date = new Date('2025-07-15T08:09:10.007Z');
    expect(toDbTime(date)).toBe('2025-07-15 08:09:10.007');
    expect(fromDbTime(toDbTime(date))).toEqual(date);
  });

  it('reads second-precision strings and driver Dates', () => {
    expect(fromDbTime('2024-01-02 03:04:05')).toEqual(new Date('2024-01-02T03:04:05Z'));
    expect(fromDbTime('2024-01-02 03:04:05.123456')).toEqual(new Date('2024-01-02T03:04:05.123Z'));
    const date = new Date();
    expect(fromDbTime(date)).toBe(date);
    expect(() => fromDbTime('yesterday')).toThrow(RangeError);
  });

  it('orders as strings the way the dates order', () => {
    const a = toDbTime(new Date('2025-07-15T08:09:10.999Z'));
    const b = toDbTime(new Date('2025-07-15T08:09:11.000Z'));
    expect(a < b).toBe(true);
  });
});
