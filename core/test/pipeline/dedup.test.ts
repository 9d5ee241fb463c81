import { describe, expect, it } from 'vitest';
import { Deduplicator, type DedupInput } from '../../src/pipeline/dedup.js';

function clock() {
  const state = { t: 1_000 };
  return { now: () => state.t, advance: (ms: number) => (state.t += ms) };
}

function withId(logId: string, over: Partial<DedupInput> = {}): DedupInput {
  return { botName: 'LOA.i', channelId: '18445682959392711', logId, room: '테스트방', sender: '홍길동', text: 'ㅋㅋ', ...over };
}

function legacy(over: Partial<DedupInput> = {}): DedupInput {
  return { botName: 'LOA.i', channelId: null, logId: null, room: '테스트방', sender: '홍길동', text: 'ㅋㅋ', ...over };
}

function make(c: ReturnType<typeof clock>, over: { windowMs?: number; legacyTwinWindowMs?: number; maxEntries?: number } = {}) {
  return new Deduplicator({ windowMs: 60_000, legacyTwinWindowMs: 5_000, maxEntries: 10_000, now: c.now, ...over });
}

describe('Deduplicator: message ids', () => {
  it('drops a repeat of (botName, channelId, logId) within the window and forgets it after', () => {
    const c = clock();
    const d = make(c);
    expect(d.check(withId('1'))).toBe('new');
    c.advance(59_999);
    expect(d.check(withId('1', { text: 'edited text does not matter' }))).toBe('duplicate');
    c.advance(1);
    expect(d.check(withId('1'))).toBe('new');
  });

  it('keys on bot and channel too, and keeps ids beyond 2^53 apart', () => {
    const c = clock();
    const d = make(c);
    expect(d.check(withId('9007199254740993'))).toBe('new');
    expect(d.check(withId('9007199254740992'))).toBe('new');
    expect(d.check(withId('9007199254740993', { botName: 'kkobot' }))).toBe('new');
    expect(d.check(withId('9007199254740993', { channelId: '1' }))).toBe('new');
    expect(d.check(withId('9007199254740993'))).toBe('duplicate');
  });

  it('expires entries by time so memory follows the window', () => {
    const c = clock();
    const d = make(c, { windowMs: 1_000, legacyTwinWindowMs: 500 });
    for (let i = 0; i < 100; i += 1) d.check(withId(String(i), { text: `t${i}` }));
    expect(d.size()).toBe(200);
    c.advance(500);
    d.check(withId('x', { text: 'other' }));
    expect(d.size()).toBe(102); // twin arrivals expired, ids still remembered
    c.advance(500);
    d.check(withId('y', { text: 'other2' }));
    expect(d.size()).toBe(3); // x's id, y's id and y's twin arrival
  });

  it('caps total entries, evicting the oldest first', () => {
    const c = clock();
    const d = make(c, { maxEntries: 10, legacyTwinWindowMs: 1 });
    for (let i = 0; i < 20; i += 1) {
      d.check(withId(String(i)));
      c.advance(1);
    }
    expect(d.size()).toBeLessThanOrEqual(10);
    expect(d.check(withId('19'))).toBe('duplicate');
    expect(d.check(withId('0'))).toBe('new'); // evicted although still inside the window
  });
});

describe('Deduplicator: legacy twins', () => {
  it('drops the legacy twin that arrives after its logId twin', () => {
    const c = clock();
    const d = make(c);
    expect(d.check(withId('1'))).toBe('new');
    c.advance(4_999);
    expect(d.check(legacy())).toBe('legacy-twin');
  });

  it('drops the logId twin that arrives after its legacy twin (either order)', () => {
    const c = clock();
    const d = make(c);
    expect(d.check(legacy())).toBe('new');
    c.advance(2_000);
    expect(d.check(withId('1'))).toBe('legacy-twin');
    // The id is still remembered: a replay of it is a plain duplicate.
    expect(d.check(withId('1'))).toBe('duplicate');
  });

  it('does not pair outside the twin window', () => {
    const c = clock();
    const d = make(c);
    expect(d.check(withId('1'))).toBe('new');
    c.advance(5_000);
    expect(d.check(legacy())).toBe('new');
    c.advance(5_000);
    expect(d.check(withId('2'))).toBe('new');
  });

  it('pairs one to one: two identical lines, each with its twin, are both processed once', () => {
    const c = clock();
    const d = make(c);
    expect(d.check(withId('1'))).toBe('new');
    expect(d.check(withId('2'))).toBe('new');
    expect(d.check(legacy())).toBe('legacy-twin');
    expect(d.check(legacy())).toBe('legacy-twin');
    expect(d.check(legacy())).toBe('new'); // a third legacy line has no twin left
    expect(d.check(withId('3'))).toBe('legacy-twin'); // ...and pairs with the next logId line
  });

  it('pairs one to one with interleaved orders', () => {
    const c = clock();
    const d = make(c);
    expect(d.check(legacy())).toBe('new');
    expect(d.check(withId('1'))).toBe('legacy-twin');
    expect(d.check(withId('2'))).toBe('new');
    expect(d.check(legacy())).toBe('legacy-twin');
  });

  it('never pairs two logId messages, nor two legacy messages', () => {
    const c = clock();
    const d = make(c);
    expect(d.check(withId('1'))).toBe('new');
    expect(d.check(withId('2'))).toBe('new');
    const e = make(clock());
    expect(e.check(legacy())).toBe('new');
    expect(e.check(legacy())).toBe('new');
  });

  it('fingerprints bot, room, sender and text', () => {
    const c = clock();
    const d = make(c);
    expect(d.check(withId('1'))).toBe('new');
    expect(d.check(legacy({ sender: '김철수' }))).toBe('new');
    expect(d.check(legacy({ room: '다른방' }))).toBe('new');
    expect(d.check(legacy({ botName: 'kkobot' }))).toBe('new');
    expect(d.check(legacy({ text: 'ㅋㅋㅋ' }))).toBe('new');
    expect(d.check(legacy())).toBe('legacy-twin');
  });

  it('recognises twins of long texts (kept as a digest) and tells long texts apart', () => {
    const c = clock();
    const d = make(c);
    const long = 'a'.repeat(60_000);
    expect(d.check(withId('1', { text: long }))).toBe('new');
    expect(d.check(legacy({ text: `${long}b` }))).toBe('new');
    expect(d.check(legacy({ text: long }))).toBe('legacy-twin');
  });

  it('expires an unpaired arrival so a later twin is not paired with a stale line', () => {
    const c = clock();
    const d = make(c, { legacyTwinWindowMs: 100 });
    expect(d.check(withId('1'))).toBe('new');
    expect(d.check(withId('2'))).toBe('new');
    c.advance(50);
    expect(d.check(withId('3'))).toBe('new');
    c.advance(50); // 1 and 2 expire, 3 still waits
    expect(d.check(legacy())).toBe('legacy-twin');
    expect(d.check(legacy())).toBe('new');
  });
});
