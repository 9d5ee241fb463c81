import { describe, expect, it } from 'vitest';
import { Deduplicator } from '../../src/pipeline/dedup.js';
import { HashWindow } from '../../src/pipeline/hash-window.js';
import { KeyHasher } from '../../src/pipeline/key-hash.js';

/**
 * Issue 11 (memory stays bounded): the structural bounds of dedup's memory, over the real
 * classes. Not timed: a bound on counts and allocated slots, which hold on any machine.
 */
describe('dedup memory bounds', () => {
  it('never remembers more than maxEntries, nor allocates more id slots, however many messages pass', () => {
    const state = { t: 0 };
    const d = new Deduplicator({ windowMs: 300_000, legacyTwinWindowMs: 5_000, maxEntries: 5_000, now: () => state.t });
    let peakSlots = 0;
    for (let i = 0; i < 60_000; i += 1) {
      state.t = i / 6; // 6,000 messages a second, all inside the id window
      d.check({ botName: 'b', channelId: String(i % 100), logId: String(10_000_000 + i), room: `r${i % 100}`, sender: 's', text: `# echo ${i}` });
      if (i % 1_000 === 0) expect(d.size()).toBeLessThanOrEqual(5_000);
      peakSlots = Math.max(peakSlots, d.memory().idSlots);
    }
    expect(peakSlots).toBeLessThanOrEqual(5_000);
    // The newest ids are still recognised after all that eviction.
    expect(d.check({ botName: 'b', channelId: String(59_999 % 100), logId: String(10_000_000 + 59_999), room: 'x', sender: 's', text: 'x' })).toBe('duplicate');
    d.stop();
  });

  it('gives the slots of a burst back once its ids expire', () => {
    const state = { t: 0 };
    const d = new Deduplicator({ windowMs: 1_000, legacyTwinWindowMs: 100, maxEntries: 100_000, now: () => state.t });
    for (let i = 0; i < 50_000; i += 1) d.check({ botName: 'b', channelId: '1', logId: String(i), room: 'r', sender: 's', text: `t${i}` });
    expect(d.memory().idSlots).toBeGreaterThanOrEqual(50_000);
    state.t = 1_000;
    d.check({ botName: 'b', channelId: '1', logId: 'after', room: 'r', sender: 's', text: 'after' });
    expect(d.memory()).toEqual({ ids: 1, twins: 1, idSlots: 256 });
    d.stop();
  });

  it('expires while no message arrives (the idle sweep), so a quiet bridge holds nothing', async () => {
    const d = new Deduplicator({ windowMs: 1, legacyTwinWindowMs: 1, maxEntries: 1_000 });
    for (let i = 0; i < 500; i += 1) d.check({ botName: 'b', channelId: '1', logId: String(i), room: 'r', sender: 's', text: `t${i}` });
    expect(d.size()).toBeGreaterThan(0);
    await expect.poll(() => d.size(), { timeout: 10_000, interval: 100 }).toBe(0);
    d.stop();
  });
});

describe('HashWindow', () => {
  it('keeps membership exact through growth, wrap-around, eviction and shrinking', () => {
    const w = new HashWindow(3_000);
    const h = new KeyHasher(Buffer.alloc(8, 7));
    const key = (i: number) => {
      h.hash('bot', 'chan', String(i));
      return [h.hi, h.lo] as const;
    };
    // Fill past the cap: the oldest are evicted in order.
    for (let i = 0; i < 10_000; i += 1) w.push(...key(i), i);
    expect(w.length).toBe(3_000);
    for (let i = 0; i < 10_000; i += 1) expect(w.has(...key(i))).toBe(i >= 7_000);
    // Drain most of it: the arrays shrink and what is left is still found.
    for (let i = 0; i < 2_900; i += 1) w.shift();
    expect(w.allocated).toBeLessThan(1_000);
    for (let i = 9_900; i < 10_000; i += 1) expect(w.has(...key(i))).toBe(true);
    expect(w.has(...key(9_899))).toBe(false);
    expect(w.oldestAt()).toBe(9_900);
  });

  it('finds keys whose index positions collide (linear probing, backward-shift delete)', () => {
    const w = new HashWindow(64);
    // Same low bits, different high halves: every key probes from the same index position.
    for (let i = 0; i < 64; i += 1) w.push(i, 0x100, i);
    for (let i = 0; i < 30; i += 1) w.shift();
    for (let i = 0; i < 64; i += 1) expect(w.has(i, 0x100)).toBe(i >= 30);
    for (let i = 64; i < 94; i += 1) w.push(i, 0x100, i);
    for (let i = 0; i < 94; i += 1) expect(w.has(i, 0x100)).toBe(i >= 30);
  });
});

describe('KeyHasher', () => {
  it('separates parts (no ambiguity from concatenation) and differs per seed', () => {
    const h = new KeyHasher(Buffer.alloc(8, 1));
    const of = (...p: [string, string, string]) => (h.hash(...p), `${h.hi}:${h.lo}`);
    expect(of('ab', 'c', 'd')).not.toBe(of('a', 'bc', 'd'));
    expect(of('b', '1', '2')).toBe(of('b', '1', '2'));
    const other = new KeyHasher(Buffer.alloc(8, 2));
    other.hash('b', '1', '2');
    expect(`${other.hi}:${other.lo}`).not.toBe(of('b', '1', '2'));
  });

  it('has no collision among 300,000 sequential ids (the shape of KakaoTalk log ids)', () => {
    const h = new KeyHasher();
    const seen = new Set<string>();
    for (let i = 0; i < 300_000; i += 1) {
      h.hash('bot', '18445682959392711', String(3_000_000_000_000_000 + i));
      seen.add(`${h.hi}:${h.lo}`);
    }
    expect(seen.size).toBe(300_000);
  });
});
