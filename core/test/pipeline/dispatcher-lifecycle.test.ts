import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BridgeError, isBridgeError } from '../../src/errors.js';
import { Dispatcher, JobAbort, type DispatcherOptions } from '../../src/pipeline/dispatcher.js';
import { deferred, type Deferred } from './test-doubles.js';

interface Job {
  readonly botName: string;
  readonly roomKey: string;
  readonly id: string;
}

const job = (id: string, roomKey = 'r'): Job => ({ botName: 'b', roomKey, id });

/**
 * A worker that runs until the test settles it (or forever), recording each call's signal. The
 * signal is read only when the test looks at it (JobAbort makes it on first read, so a signal
 * first read after the abort must already be aborted, with the reason).
 */
function manualWorker() {
  const calls = new Map<string, { readonly signal: AbortSignal; done: Deferred }>();
  const worker = (j: Job, abort: JobAbort): Promise<void> => {
    const done = deferred();
    calls.set(j.id, { get signal() { return abort.signal; }, done });
    return done.promise;
  };
  return { calls, worker, started: () => [...calls.keys()] };
}

function make(over: Partial<DispatcherOptions<Job>> & Pick<DispatcherOptions<Job>, 'worker'>): Dispatcher<Job> {
  return new Dispatcher<Job>({ concurrency: { global: 1, perBot: 1, perRoom: 1 }, processingTimeoutMs: 1_000, ...over });
}

describe('Dispatcher timeouts and failures', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts a hanging job at processingTimeoutMs with the coded reason and frees its slot at once', async () => {
    const w = manualWorker();
    const timedOut: string[] = [];
    const d = make({ worker: w.worker, onTimeout: (j) => timedOut.push(j.id) });
    d.push(job('hangs'));
    d.push(job('next'));
    await vi.advanceTimersByTimeAsync(999);
    expect(w.started()).toEqual(['hangs']);
    expect(w.calls.get('hangs')?.signal.aborted).toBe(false);

    await vi.advanceTimersByTimeAsync(1);
    const signal = w.calls.get('hangs')?.signal;
    expect(signal?.aborted).toBe(true);
    expect(isBridgeError(signal?.reason, 'BRIDGE_ERR_PROCESSING_TIMEOUT')).toBe(true);
    expect((signal?.reason as BridgeError).params).toEqual({ timeoutMs: 1_000 });
    expect(timedOut).toEqual(['hangs']);
    // The hanging worker never settles, yet the next job of the same room already runs.
    expect(w.started()).toEqual(['hangs', 'next']);
    expect(d.stats()).toMatchObject({ running: 1, lingering: 1, totals: { timedOut: 1 } });

    w.calls.get('next')?.done.resolve();
    await d.drained();
    expect(d.stats()).toMatchObject({ running: 0, lingering: 1, totals: { completed: 1, timedOut: 1 } });
    expect(vi.getTimerCount()).toBe(0);

    // A late settlement of the timed-out worker is not reported a second time.
    w.calls.get('hangs')?.done.reject(new Error('late'));
    await vi.advanceTimersByTimeAsync(0);
    expect(d.stats()).toMatchObject({ lingering: 0, totals: { failed: 0, completed: 1 } });
  });

  it('reports a rejecting or throwing worker with onError and frees the slot', async () => {
    const errors: [string, unknown][] = [];
    const boom = new Error('boom');
    const d = make({
      worker: (j) => {
        if (j.id === 'throws') throw boom;
        if (j.id === 'rejects') return Promise.reject(boom);
        return Promise.resolve();
      },
      onError: (j, err) => errors.push([j.id, err]),
    });
    d.push(job('throws'));
    d.push(job('rejects'));
    d.push(job('ok'));
    await d.drained();
    expect(errors).toEqual([
      ['throws', boom],
      ['rejects', boom],
    ]);
    expect(d.stats().totals).toMatchObject({ started: 3, failed: 2, completed: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears the timeout timer of every job that completes', async () => {
    const w = manualWorker();
    const d = make({ worker: w.worker, concurrency: { global: 5, perBot: 5, perRoom: 5 } });
    for (let i = 0; i < 5; i += 1) d.push(job(String(i)));
    expect(vi.getTimerCount()).toBe(5);
    for (const call of w.calls.values()) call.done.resolve();
    await d.drained();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('Dispatcher saturation', () => {
  it('calls onSaturated once at capacity and onUnsaturated once at the low-water mark', async () => {
    const w = manualWorker();
    const events: string[] = [];
    const d: Dispatcher<Job> = make({
      worker: w.worker,
      capacity: 100,
      onSaturated: () => events.push(`saturated@${d.length()}`),
      onUnsaturated: () => events.push(`unsaturated@${d.length()}`),
    });
    d.push(job('running'));
    for (let i = 0; i < 99; i += 1) d.push(job(`q${i}`));
    expect(events).toEqual([]);
    d.push(job('q99'));
    expect(events).toEqual(['saturated@100']);
    // Producers are paused, but what is still in flight is accepted, never dropped.
    for (let i = 100; i < 105; i += 1) d.push(job(`q${i}`));
    expect(d.length()).toBe(105);
    expect(events).toEqual(['saturated@100']);

    let finished = 0;
    while (d.length() > 80) {
      w.calls.get(w.started().at(-1) ?? '')?.done.resolve();
      finished += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(finished).toBe(25);
    expect(events).toEqual(['saturated@100', 'unsaturated@90']);

    while (d.length() < 100) d.push(job(`again${d.length()}`));
    expect(events).toEqual(['saturated@100', 'unsaturated@90', 'saturated@100']);
    const { abandoned } = await d.close({ graceMs: 0 });
    expect(abandoned).toHaveLength(100);
  });

  it('has a low-water mark below capacity even for a capacity of one', async () => {
    const w = manualWorker();
    const events: string[] = [];
    const d = make({ worker: w.worker, capacity: 1, onSaturated: () => events.push('s'), onUnsaturated: () => events.push('u') });
    d.push(job('a'));
    d.push(job('b'));
    expect(events).toEqual(['s']);
    w.calls.get('a')?.done.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['s', 'u']);
    w.calls.get('b')?.done.resolve();
    await d.drained();
  });
});

describe('Dispatcher close', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses pushes once closing, with the coded error', async () => {
    const d = make({ worker: async () => {} });
    const closed = d.close({ graceMs: 100 });
    let caught: unknown;
    try {
      d.push(job('late'));
    } catch (err) {
      caught = err;
    }
    expect(isBridgeError(caught, 'BRIDGE_ERR_ENQUEUE_AFTER_CLOSE')).toBe(true);
    await expect(closed).resolves.toEqual({ abandoned: [], aborted: [] });
    expect(d.close({ graceMs: 5 })).toBe(closed);
  });

  it('lets work finish within the grace period, then aborts what runs and returns what is queued', async () => {
    const w = manualWorker();
    const d = make({ worker: w.worker });
    for (const id of ['a', 'b', 'c', 'd']) d.push(job(id));
    d.push(job('other-room', 'r2'));
    let result: { abandoned: Job[]; aborted: Job[] } | undefined;
    expect(d.accepting).toBe(true);
    void d.close({ graceMs: 500 }).then((r) => (result = r));
    expect(d.accepting).toBe(false);

    // Queued jobs still start during the grace period (round-robin: the other room's turn).
    w.calls.get('a')?.done.resolve();
    await vi.advanceTimersByTimeAsync(499);
    expect(w.started()).toEqual(['a', 'other-room']);
    expect(result).toBeUndefined();

    await vi.advanceTimersByTimeAsync(1);
    expect(result?.abandoned.map((j) => j.id)).toEqual(['b', 'c', 'd']);
    expect(result?.aborted.map((j) => j.id)).toEqual(['other-room']);
    const signal = w.calls.get('other-room')?.signal;
    expect(isBridgeError(signal?.reason, 'BRIDGE_ERR_SHUTDOWN')).toBe(true);
    expect((signal?.reason as BridgeError).params).toEqual({ graceMs: 500 });
    expect(d.stats()).toMatchObject({ queued: 0, running: 0, lingering: 1, activeRooms: 0, totals: { aborted: 1, abandoned: 3 } });
    expect(vi.getTimerCount()).toBe(0);
    await expect(d.drained()).resolves.toBeUndefined();
  });

  it('returns as soon as everything finished, without waiting out the grace period', async () => {
    const w = manualWorker();
    const d = make({ worker: w.worker });
    d.push(job('a'));
    d.push(job('b'));
    const closing = d.close({ graceMs: 60_000 });
    w.calls.get('a')?.done.resolve();
    await vi.advanceTimersByTimeAsync(0);
    w.calls.get('b')?.done.resolve();
    await expect(closing).resolves.toEqual({ abandoned: [], aborted: [] });
    expect(w.calls.get('b')?.signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('Dispatcher volume', () => {
  it('processes 100,000 pushes across many rooms and bots', { timeout: 60_000 }, async () => {
    let ran = 0;
    const d = new Dispatcher<Job>({
      concurrency: { global: 31, perBot: 30, perRoom: 3 },
      processingTimeoutMs: 300_000,
      worker: async () => {
        ran += 1;
      },
    });
    for (let i = 0; i < 100_000; i += 1) d.push({ botName: `bot${i % 7}`, roomKey: `room${i % 997}`, id: String(i) });
    expect(d.stats().saturated).toBe(true);
    await d.drained();
    expect(ran).toBe(100_000);
    expect(d.stats()).toMatchObject({ queued: 0, running: 0, activeRooms: 0, saturated: false, totals: { completed: 100_000 } });
  });
});

describe('JobAbort', () => {
  it('makes no AbortSignal until one is read; one read before the abort is aborted with the reason', () => {
    const abort = new JobAbort();
    const signal = abort.signal;
    expect(abort.signal).toBe(signal);
    const reason = new BridgeError('BRIDGE_ERR_PROCESSING_TIMEOUT', { timeoutMs: 5 });
    let heard: unknown;
    signal.addEventListener('abort', () => (heard = signal.reason));
    abort.abort(reason);
    abort.abort(new Error('second'));
    expect(signal.aborted).toBe(true);
    expect(heard).toBe(reason);
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe(reason);
  });

  it('a signal first read after the abort is already aborted', () => {
    const abort = new JobAbort();
    const reason = new BridgeError('BRIDGE_ERR_SHUTDOWN', { graceMs: 1 });
    abort.abort(reason);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });

  it('race settles with the work, or rejects with the reason once aborted (before or during)', async () => {
    const abort = new JobAbort();
    await expect(abort.race(Promise.resolve(7))).resolves.toBe(7);
    await expect(abort.race(Promise.reject(new Error('failed')))).rejects.toThrow('failed');
    const pending = abort.race(new Promise<never>(() => {}));
    const reason = new BridgeError('BRIDGE_ERR_PROCESSING_TIMEOUT', { timeoutMs: 5 });
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(abort.race(Promise.resolve(1))).rejects.toBe(reason);
  });
});
