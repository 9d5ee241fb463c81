import { describe, expect, it } from 'vitest';
import { firstOccurrence, nextOccurrence, type Timing } from '../src/schedule.js';
import { summarise } from '../src/scheduler.js';

const SEOUL = 'Asia/Seoul';
const at = (iso: string) => new Date(iso);
const timing = (over: Partial<Timing>): Timing => ({ type: 'daily', date: null, times: ['09:00'], weekdays: [], validFrom: null, validUntil: null, ...over });

describe('nextOccurrence', () => {
  it('daily: the next time of day after the instant, in the zone', () => {
    expect(nextOccurrence(timing({}), at('2026-12-07T08:59:59+09:00'), SEOUL)).toEqual(at('2026-12-07T09:00:00+09:00'));
    expect(nextOccurrence(timing({}), at('2026-12-07T09:00:00+09:00'), SEOUL)).toEqual(at('2026-12-08T09:00:00+09:00'));
    // Month and year roll over.
    expect(nextOccurrence(timing({}), at('2026-12-31T10:00:00+09:00'), SEOUL)).toEqual(at('2027-01-01T09:00:00+09:00'));
  });

  it('daily with several times (schedule_times)', () => {
    const t = timing({ times: ['18:30', '09:00:00', '12:00'] });
    expect(nextOccurrence(t, at('2026-12-07T09:00:00+09:00'), SEOUL)).toEqual(at('2026-12-07T12:00:00+09:00'));
    expect(nextOccurrence(t, at('2026-12-07T18:30:00+09:00'), SEOUL)).toEqual(at('2026-12-08T09:00:00+09:00'));
  });

  it('weekly: the next listed weekday', () => {
    const t = timing({ type: 'weekly', weekdays: ['monday', 'thursday'] });
    // 2026-12-07 is a Monday.
    expect(nextOccurrence(t, at('2026-12-07T09:00:00+09:00'), SEOUL)).toEqual(at('2026-12-10T09:00:00+09:00'));
    expect(nextOccurrence(t, at('2026-12-10T10:00:00+09:00'), SEOUL)).toEqual(at('2026-12-14T09:00:00+09:00'));
    expect(nextOccurrence(timing({ type: 'weekly', weekdays: [] }), at('2026-12-07T00:00:00Z'), SEOUL)).toBeNull();
  });

  it('once: its date and time, never again', () => {
    const t = timing({ type: 'once', date: '2026-12-24', times: ['20:00:00'] });
    expect(firstOccurrence(t, at('2026-12-25T00:00:00+09:00'), SEOUL)).toEqual(at('2026-12-24T20:00:00+09:00'));
    expect(nextOccurrence(t, at('2026-12-24T20:00:00+09:00'), SEOUL)).toBeNull();
  });

  it('validity window: starts no earlier than valid_from, none after valid_until', () => {
    const t = timing({ validFrom: at('2026-12-10T00:00:00+09:00'), validUntil: at('2026-12-11T12:00:00+09:00') });
    expect(nextOccurrence(t, at('2026-12-07T10:00:00+09:00'), SEOUL)).toEqual(at('2026-12-10T09:00:00+09:00'));
    expect(nextOccurrence(t, at('2026-12-10T09:00:00+09:00'), SEOUL)).toEqual(at('2026-12-11T09:00:00+09:00'));
    expect(nextOccurrence(t, at('2026-12-11T09:00:00+09:00'), SEOUL)).toBeNull();
  });

  it('a zone with DST (Europe/Berlin) keeps the wall-clock time across the change', () => {
    const t = timing({ times: ['09:00'] });
    expect(nextOccurrence(t, at('2026-03-28T12:00:00+01:00'), 'Europe/Berlin')).toEqual(at('2026-03-29T09:00:00+02:00'));
  });
});

describe('summarise', () => {
  it('maps send results to the log status', () => {
    expect(summarise([{ component: 'text', status: 'written' }])).toEqual({ status: 'success', result: 'written', error: null });
    expect(summarise([{ component: 'text', status: 'queued' }])).toMatchObject({ status: 'success', result: 'queued' });
    expect(summarise([{ component: 'text', status: 'written' }, { component: 'images_1', status: 'rejected', reason: 'too_long' }]))
      .toEqual({ status: 'partial', result: 'written,rejected', error: 'images_1: rejected (too_long)' });
    expect(summarise([{ component: 'text', status: 'rejected', reason: 'no_client' }])).toMatchObject({ status: 'failed' });
  });
});
