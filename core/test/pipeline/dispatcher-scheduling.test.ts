import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/pipeline/dispatcher.js';
import { deferred, type Deferred, seededRandom, turns } from './test-doubles.js';

interface Job {
  readonly botName: string;
  readonly roomKey: string;
  readonly seq: number;
}

/** Counts jobs inside the worker right now, and the most ever seen, globally, per bot, per room. */
class Meter {
  global = 0;
  maxGlobal = 0;
  private readonly now = new Map<string, number>();
  readonly max = new Map<string, number>();

  enter(job: Job): void {
    this.global += 1;
    this.maxGlobal = Math.max(this.maxGlobal, this.global);
    for (const key of [`bot:${job.botName}`, `room:${job.botName}/${job.roomKey}`]) {
      const n = (this.now.get(key) ?? 0) + 1;
      this.now.set(key, n);
      this.max.set(key, Math.max(this.max.get(key) ?? 0, n));
    }
  }

  leave(job: Job): void {
    this.global -= 1;
    for (const key of [`bot:${job.botName}`, `room:${job.botName}/${job.roomKey}`]) this.now.set(key, (this.now.get(key) ?? 0) - 1);
  }

  maxOf(prefix: 'bot' | 'room'): number {
    let m = 0;
    for (const [key, value] of this.max) if (key.startsWith(`${prefix}:`)) m = Math.max(m, value);
    return m;
  }
}

describe('Dispatcher scheduling', () => {
  it('never exceeds the global, per-bot and per-room limits and starts each room in FIFO order', async () => {
    const random = seededRandom(42);
    const meter = new Meter();
    const started = new Map<string, number[]>();
    const d = new Dispatcher<Job>({
      concurrency: { global: 8, perBot: 5, perRoom: 2 },
      processingTimeoutMs: 60_000,
      worker: async (job) => {
        meter.enter(job);
        const key = `${job.botName}/${job.roomKey}`;
        started.set(key, [...(started.get(key) ?? []), job.seq]);
        await turns(Math.floor(random() * 5));
        meter.leave(job);
      },
    });
    const seqs = new Map<string, number>();
    const pushOne = () => {
      const botName = `bot${Math.floor(random() * 3)}`;
      const roomKey = `room${Math.floor(random() * 6)}`;
      const key = `${botName}/${roomKey}`;
      const seq = (seqs.get(key) ?? 0) + 1;
      seqs.set(key, seq);
      d.push({ botName, roomKey, seq });
    };
    for (let i = 0; i < 600; i += 1) pushOne();
    for (let batch = 0; batch < 60; batch += 1) {
      await turns(1);
      for (let i = 0; i < 10; i += 1) pushOne();
    }
    await d.drained();

    expect(meter.maxGlobal).toBe(8);
    expect(meter.maxOf('bot')).toBe(5);
    expect(meter.maxOf('room')).toBe(2);
    for (const [key, order] of started) {
      expect(order, key).toEqual(order.slice().sort((a, b) => a - b));
      expect(order.length, key).toBe(seqs.get(key));
    }
    const stats = d.stats();
    expect(stats.totals).toMatchObject({ pushed: 1200, started: 1200, completed: 1200, failed: 0, timedOut: 0 });
    expect(stats).toMatchObject({ queued: 0, running: 0, activeRooms: 0, runningPerBot: {} });
  });

  it('honours a per-room concurrency override in both directions', async () => {
    const meter = new Meter();
    const d = new Dispatcher<Job>({
      concurrency: { global: 20, perBot: 20, perRoom: 2 },
      roomConcurrency: (_bot, roomKey) => ({ narrow: 1, wide: 4 })[roomKey],
      processingTimeoutMs: 60_000,
      worker: async (job) => {
        meter.enter(job);
        await turns(2);
        meter.leave(job);
      },
    });
    for (let i = 0; i < 20; i += 1) for (const roomKey of ['narrow', 'wide', 'plain']) d.push({ botName: 'b', roomKey, seq: i });
    await d.drained();
    expect(meter.max.get('room:b/narrow')).toBe(1);
    expect(meter.max.get('room:b/wide')).toBe(4);
    expect(meter.max.get('room:b/plain')).toBe(2);
  });

  it('a room with 1,000 queued jobs does not delay another room by more than a slot', async () => {
    for (const perRoom of [2, 3]) {
      const running: { job: Job; done: Deferred }[] = [];
      const starts: string[] = [];
      const d = new Dispatcher<Job>({
        concurrency: { global: 2, perBot: 30, perRoom },
        processingTimeoutMs: 60_000,
        worker: (job) => {
          starts.push(`${job.roomKey}#${job.seq}`);
          const done = deferred();
          running.push({ job, done });
          return done.promise;
        },
      });
      for (let i = 1; i <= 1_000; i += 1) d.push({ botName: 'b', roomKey: 'busy', seq: i });
      expect(starts).toEqual(['busy#1', 'busy#2']);
      d.push({ botName: 'b', roomKey: 'quiet', seq: 1 });
      for (let completions = 1; !starts.includes('quiet#1'); completions += 1) {
        expect(completions, `perRoom ${perRoom}`).toBeLessThanOrEqual(2);
        running.shift()?.done.resolve();
        await turns(1);
      }
      expect(starts.indexOf('quiet#1'), `perRoom ${perRoom}`).toBeLessThanOrEqual(3);
      await d.close({ graceMs: 0 });
    }
  });

  it('rooms are served round-robin: ten busy rooms each get a start per turn', async () => {
    const running: Deferred[] = [];
    const starts: string[] = [];
    const d = new Dispatcher<Job>({
      concurrency: { global: 1, perBot: 30, perRoom: 3 },
      processingTimeoutMs: 60_000,
      worker: (job) => {
        starts.push(job.roomKey);
        const done = deferred();
        running.push(done);
        return done.promise;
      },
    });
    for (let r = 0; r < 10; r += 1) for (let i = 0; i < 50; i += 1) d.push({ botName: 'b', roomKey: `r${r}`, seq: i });
    for (let i = 0; i < 30; i += 1) {
      running.shift()?.resolve();
      await turns(1);
    }
    // r0's first job started on its push, before the other rooms existed; from then on every
    // window of ten consecutive starts touches all ten rooms.
    expect(starts[0]).toBe('r0');
    for (let i = 1; i + 10 <= starts.length; i += 1) expect(new Set(starts.slice(i, i + 10)).size).toBe(10);
    await d.close({ graceMs: 0 });
  });

  it('a bot at its limit does not block another bot, and its parked rooms all run later', async () => {
    const running: { job: Job; done: Deferred }[] = [];
    const meter = new Meter();
    const d = new Dispatcher<Job>({
      concurrency: { global: 3, perBot: 2, perRoom: 3 },
      processingTimeoutMs: 60_000,
      worker: (job) => {
        meter.enter(job);
        const done = deferred();
        running.push({ job, done });
        return done.promise.then(() => meter.leave(job));
      },
    });
    for (let r = 0; r < 5; r += 1) for (let i = 0; i < 4; i += 1) d.push({ botName: 'x', roomKey: `x${r}`, seq: i });
    expect(running.map((r) => r.job.botName)).toEqual(['x', 'x']);
    d.push({ botName: 'y', roomKey: 'y0', seq: 0 });
    expect(running.map((r) => r.job.botName)).toEqual(['x', 'x', 'y']);
    while (running.length > 0) {
      running.shift()?.done.resolve();
      await turns(1);
    }
    expect(d.stats().totals.completed).toBe(21);
    expect(meter.max.get('bot:x')).toBe(2);
    expect(meter.maxGlobal).toBe(3);
    expect(d.idle()).toBe(true);
  });

  it('pause stops starting new jobs; resume starts them', async () => {
    const started: number[] = [];
    const d = new Dispatcher<Job>({
      concurrency: { global: 4, perBot: 4, perRoom: 4 },
      processingTimeoutMs: 60_000,
      worker: async (job) => {
        started.push(job.seq);
      },
    });
    d.pause();
    for (let i = 0; i < 3; i += 1) d.push({ botName: 'b', roomKey: 'r', seq: i });
    let drained = false;
    void d.drained().then(() => (drained = true));
    await turns(3);
    expect(started).toEqual([]);
    expect(drained).toBe(false);
    expect(d.length()).toBe(3);
    d.resume();
    await d.drained();
    expect(started).toEqual([0, 1, 2]);
    expect(drained).toBe(true);
    await expect(d.drained()).resolves.toBeUndefined();
  });

  it('a job pushed from inside a worker is scheduled', async () => {
    const order: string[] = [];
    const d: Dispatcher<Job> = new Dispatcher<Job>({
      concurrency: { global: 1, perBot: 1, perRoom: 1 },
      processingTimeoutMs: 60_000,
      worker: async (job) => {
        order.push(`${job.roomKey}${job.seq}`);
        if (job.seq < 3) d.push({ botName: 'b', roomKey: job.roomKey, seq: job.seq + 1 });
      },
    });
    d.push({ botName: 'b', roomKey: 'r', seq: 0 });
    await d.drained();
    expect(order).toEqual(['r0', 'r1', 'r2', 'r3']);
  });
});
