import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/pipeline/dispatcher.js';
import { deferred, type Deferred } from './test-doubles.js';

interface Job {
  readonly botName: string;
  readonly roomKey: string;
  readonly name: string;
}

/** A dispatcher on a hand-moved clock whose jobs end when the test says so. */
function harness(timeRunnable?: () => boolean, concurrency = { global: 1, perBot: 5, perRoom: 1 }) {
  let clock = 0;
  const runs = new Map<string, { runnableAt: number; startedAt: number; done: Deferred }>();
  const d = new Dispatcher<Job>({
    concurrency,
    processingTimeoutMs: 60_000,
    now: () => clock,
    ...(timeRunnable && { timeRunnable }),
    worker: (job, _signal, runnableAt) => {
      const done = deferred();
      runs.set(job.name, { runnableAt, startedAt: clock, done });
      return done.promise;
    },
  });
  return {
    d,
    runs,
    at: (ms: number) => void (clock = ms),
    finish: async (name: string) => {
      runs.get(name)!.done.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('Dispatcher: when a job became runnable (the profiler’s queue/concurrency split)', () => {
  it('is the time a job reached the head of its room with a free room slot, not its start', async () => {
    const h = harness(() => true);
    h.at(10);
    h.d.push({ botName: 'b', roomKey: 'A', name: 'a1' }); // starts at once
    h.d.push({ botName: 'b', roomKey: 'A', name: 'a2' }); // behind a1 in its room (perRoom 1)
    h.at(20);
    h.d.push({ botName: 'b', roomKey: 'B', name: 'b1' }); // head of its room at once, but the global slot is taken
    h.at(50);
    await h.finish('a1'); // a2 now heads room A; the free global slot goes to the ring: b1 first (round robin)
    expect(h.runs.get('a1')).toMatchObject({ runnableAt: 10, startedAt: 10 });
    expect(h.runs.get('b1')).toMatchObject({ runnableAt: 20, startedAt: 50 });
    h.at(70);
    await h.finish('b1');
    // a2: queued behind a1 until 50 (queue wait 40), then waited for the global slot until 70.
    expect(h.runs.get('a2')).toMatchObject({ runnableAt: 50, startedAt: 70 });
  });

  it('keeps the first time of a lane parked by its bot limit', async () => {
    const h = harness(() => true, { global: 5, perBot: 1, perRoom: 1 });
    h.at(1);
    h.d.push({ botName: 'b', roomKey: 'A', name: 'a1' });
    h.at(2);
    h.d.push({ botName: 'b', roomKey: 'B', name: 'b1' }); // runnable at 2, parked on the bot's limit
    h.at(9);
    await h.finish('a1');
    expect(h.runs.get('b1')).toMatchObject({ runnableAt: 2, startedAt: 9 });
  });

  it('measures nothing when nobody asks for it', async () => {
    let asked = 0;
    const off = harness(() => {
      asked += 1;
      return false;
    });
    off.at(5);
    off.d.push({ botName: 'b', roomKey: 'A', name: 'x' });
    expect(off.runs.get('x')!.runnableAt).toBe(0);
    expect(asked).toBe(1);
    const none = harness();
    none.d.push({ botName: 'b', roomKey: 'A', name: 'y' });
    expect(none.runs.get('y')!.runnableAt).toBe(0);
  });
});
