import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isBridgeError } from '../../src/errors.js';
import { ReplySequencer, type ReplySequencerOptions } from '../../src/outbound/reply-sequencer.js';
import { deferred, type Deferred } from '../pipeline/test-doubles.js';

/** Records every send as `item@ms` on the fake clock, relative to the test's start. */
function recorder() {
  const start = Date.now();
  const sent: string[] = [];
  const send = (item: string) => {
    sent.push(`${item}@${Date.now() - start}`);
  };
  return { sent, send, items: () => sent.map((s) => s.split('@')[0]) };
}

function make(over: Partial<ReplySequencerOptions<string>> & Pick<ReplySequencerOptions<string>, 'send'>) {
  return new ReplySequencer<string>({ holdMs: 5_000, gapMs: 1_000, ...over });
}

const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ReplySequencer ordering', () => {
  it('sends replies in message order although the jobs finish in reverse', async () => {
    const r = recorder();
    const s = make({ send: r.send });
    const [t1, t2, t3] = [s.open('room'), s.open('room'), s.open('room')];
    s.emit(t3, ['c']);
    s.finish(t3);
    s.emit(t2, ['b']);
    s.finish(t2);
    await settle();
    expect(r.sent).toEqual([]);
    s.emit(t1, ['a']);
    await settle();
    expect(r.sent).toEqual(['a@0']);
    s.finish(t1);
    await settle();
    expect(r.sent).toEqual(['a@0', 'b@0', 'c@0']);
    expect(s.stats()).toEqual({ rooms: 0, held: 0, queued: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a message that ends without replies (error, timeout) releases the ones behind it', async () => {
    const r = recorder();
    const s = make({ send: r.send });
    const [t1, t2] = [s.open('room'), s.open('room')];
    s.emit(t2, ['b']);
    await settle();
    expect(r.sent).toEqual([]);
    s.finish(t1);
    await settle();
    expect(r.sent).toEqual(['b@0']);
  });

  it('keeps rooms independent', async () => {
    const r = recorder();
    const s = make({ send: r.send });
    const a1 = s.open('A');
    s.open('A');
    const b1 = s.open('B');
    s.emit(b1, ['b1']);
    s.emit(a1, ['a1']);
    await settle();
    expect(r.items()).toEqual(['b1', 'a1']);
  });

  it('releases a reply after holdMs and lets the skipped message reply later, in its own order', async () => {
    const r = recorder();
    const s = make({ send: r.send });
    const [t1, t2, t3] = [s.open('room'), s.open('room'), s.open('room')];
    s.emit(t2, ['b']);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(r.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.sent).toEqual(['b@5000']); // t2's hold timer released it; t1 is skipped over

    s.emit(t1, ['a1', 'a2']); // the skipped message: out at once, with its own gap
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.sent).toEqual(['b@5000', 'a1@5000', 'a2@6000']);

    s.emit(t3, ['c']); // t2 is the head now: t3 still waits for it
    await settle();
    expect(r.items()).not.toContain('c');
    s.finish(t2);
    await settle();
    expect(r.sent.at(-1)).toBe('c@6000');
    s.finish(t1);
    s.finish(t3);
    expect(s.stats()).toEqual({ rooms: 0, held: 0, queued: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('on hold expiry sends the held replies of earlier messages first', async () => {
    const r = recorder();
    const s = make({ send: r.send });
    const [t1, t2, t3] = [s.open('room'), s.open('room'), s.open('room')];
    s.emit(t3, ['c']);
    await vi.advanceTimersByTimeAsync(1_000);
    s.emit(t2, ['b']);
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(4_000); // t3's timer fires first, t2's is cancelled
    expect(r.sent).toEqual(['b@5000', 'c@5000']);
    expect(vi.getTimerCount()).toBe(0);
    s.finish(t1);
    s.finish(t2);
    s.finish(t3);
    expect(s.stats().rooms).toBe(0);
  });

  it('with holdMs 0 nothing waits, but messages finishing in the same turn stay in order', async () => {
    const r = recorder();
    const s = make({ send: r.send, holdMs: 0 });
    const [t1, t2] = [s.open('room'), s.open('room')];
    s.emit(t2, ['b']);
    s.finish(t2);
    s.emit(t1, ['a']);
    s.finish(t1);
    await settle();
    expect(r.items()).toEqual(['a', 'b']);

    const [t3, t4] = [s.open('room'), s.open('room')];
    s.emit(t4, ['d']); // t3 hangs: d goes out on the next timer turn
    await settle();
    expect(r.items()).toEqual(['a', 'b', 'd']);
    s.finish(t3);
    s.finish(t4);
    expect(s.stats().rooms).toBe(0);
  });

  it('a room opted out of ordering sends replies as they come', async () => {
    const r = recorder();
    const s = make({ send: r.send, isOrdered: (room) => room !== 'free' });
    const [f1, f2] = [s.open('free'), s.open('free')];
    s.emit(f2, ['f2']);
    await settle();
    expect(r.items()).toEqual(['f2']);
    s.emit(f1, ['f1']);
    await settle();
    expect(r.items()).toEqual(['f2', 'f1']);
    expect(s.stats().rooms).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('ReplySequencer sending', () => {
  it('waits gapMs between replies of one message, not between messages', async () => {
    const r = recorder();
    const s = make({ send: r.send });
    const [t1, t2] = [s.open('room'), s.open('room')];
    s.emit(t1, ['a1', 'a2', 'a3']);
    s.finish(t1);
    s.emit(t2, ['b1', 'b2']);
    s.finish(t2);
    await vi.advanceTimersByTimeAsync(999);
    expect(r.sent).toEqual(['a1@0']);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.sent).toEqual(['a1@0', 'a2@1000']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.sent).toEqual(['a1@0', 'a2@1000', 'a3@2000', 'b1@2000']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.sent).toEqual(['a1@0', 'a2@1000', 'a3@2000', 'b1@2000', 'b2@3000']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts the gap from the moment the previous send settled, and keeps a room serial', async () => {
    const sends: { item: string; at: number; done: Deferred }[] = [];
    const s = make({
      send: (item) => {
        const done = deferred();
        sends.push({ item, at: Date.now(), done });
        return done.promise;
      },
    });
    const start = Date.now();
    const t1 = s.open('room');
    const o1 = s.open('other');
    s.emit(t1, ['a1', 'a2']);
    s.emit(o1, ['o1']);
    await settle();
    expect(sends.map((x) => x.item)).toEqual(['a1', 'o1']); // rooms do not wait for each other
    await vi.advanceTimersByTimeAsync(3_000);
    expect(sends.map((x) => x.item)).toEqual(['a1', 'o1']); // a2 waits for a1's send to settle
    sends[0]?.done.resolve();
    await vi.advanceTimersByTimeAsync(999);
    expect(sends).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sends.map((x) => [x.item, x.at - start])).toEqual([
      ['a1', 0],
      ['o1', 0],
      ['a2', 4_000],
    ]);
    for (const x of sends) x.done.resolve();
    await s.drain();
  });

  it('a failing send does not stall the room and is reported', async () => {
    const sent: string[] = [];
    const errors: [string, string, string][] = [];
    const s = make({
      gapMs: 0,
      send: (item) => {
        if (item === 'throws') throw new Error('sync');
        if (item === 'rejects') return Promise.reject(new Error('async'));
        sent.push(item);
      },
      onSendError: (err, item, roomKey) => errors.push([(err as Error).message, item, roomKey]),
    });
    const t = s.open('room');
    s.emit(t, ['a', 'throws', 'b', 'rejects', 'c']);
    s.finish(t);
    await s.drain();
    expect(sent).toEqual(['a', 'b', 'c']);
    expect(errors).toEqual([
      ['sync', 'throws', 'room'],
      ['async', 'rejects', 'room'],
    ]);
    expect(s.stats()).toEqual({ rooms: 0, held: 0, queued: 0 });
  });

  it('refuses replies after a message finished; finish is idempotent', () => {
    const s = make({ send: () => {} });
    const t = s.open('room');
    s.finish(t);
    s.finish(t);
    let caught: unknown;
    try {
      s.emit(t, ['late']);
    } catch (err) {
      caught = err;
    }
    expect(isBridgeError(caught, 'BRIDGE_ERR_REPLY_AFTER_DONE')).toBe(true);
    expect(() => s.emit({ roomKey: 'room' }, ['x'])).toThrow(TypeError);
  });
});

describe('ReplySequencer drain and cleanup', () => {
  it('drain waits for held replies and gaps; immediate drain releases and sends at once', async () => {
    const r = recorder();
    const s = make({ send: r.send });
    const [t1, t2] = [s.open('room'), s.open('room')];
    s.emit(t2, ['b']);
    let drained = false;
    void s.drain().then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(drained).toBe(true);
    expect(r.sent).toEqual(['b@5000']);

    const [t3, t4] = [s.open('room'), s.open('room')];
    s.emit(t1, ['a1', 'a2', 'a3']); // t1 was skipped: sends with gaps
    s.emit(t4, ['d']); // held behind t2 and t3
    await settle();
    expect(r.items()).toEqual(['b', 'a1']);
    await s.drain({ immediate: true });
    expect(r.sent).toEqual(['b@5000', 'a1@5000', 'a2@5000', 'a3@5000', 'd@5000']);
    expect(vi.getTimerCount()).toBe(0);

    // Immediate mode stays: a later message is neither held nor gapped.
    const t5 = s.open('room');
    s.emit(t5, ['e1', 'e2']);
    await settle();
    expect(r.items().slice(-2)).toEqual(['e1', 'e2']);
    for (const t of [t1, t2, t3, t4, t5]) s.finish(t);
    expect(s.stats()).toEqual({ rooms: 0, held: 0, queued: 0 });
  });

  it('drain resolves at once when nothing is pending, even with open messages', async () => {
    const s = make({ send: () => {} });
    s.open('room');
    await expect(s.drain()).resolves.toBeUndefined();
  });

  it('leaves no per-room state or timers behind after many rooms went idle', async () => {
    let count = 0;
    const s = make({
      gapMs: 10,
      send: () => {
        count += 1;
      },
    });
    for (let i = 0; i < 2_000; i += 1) {
      const room = `room${i % 500}`;
      const a = s.open(room);
      const b = s.open(room);
      s.emit(b, ['b1', 'b2']);
      s.emit(a, ['a']);
      s.finish(a);
      s.finish(b);
    }
    await vi.advanceTimersByTimeAsync(1_000);
    expect(count).toBe(6_000);
    expect(s.stats()).toEqual({ rooms: 0, held: 0, queued: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('ReplySequencer onSettled (journal: done)', () => {
  it('settles a ticket once it finished and every reply it emitted was sent, not before', async () => {
    const r = recorder();
    const s = make({ send: r.send });
    const settled: string[] = [];
    const t1 = s.open('room', () => settled.push('t1'));
    const t2 = s.open('room', () => settled.push('t2'));
    const t3 = s.open('room', () => settled.push('t3'));
    s.emit(t2, ['b1', 'b2']);
    s.finish(t2);
    s.finish(t3);
    await settle();
    // t2's replies are held behind t1; t3 had none and settles at once.
    expect(settled).toEqual(['t3']);
    s.emit(t1, ['a']);
    s.finish(t1);
    await settle();
    expect(settled).toEqual(['t3', 't1']);
    expect(r.items()).toEqual(['a', 'b1']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(r.items()).toEqual(['a', 'b1', 'b2']);
    expect(settled).toEqual(['t3', 't1', 't2']);
    s.finish(t2);
    expect(settled).toEqual(['t3', 't1', 't2']);
  });
});
