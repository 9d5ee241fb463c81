import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import { Counters } from '../../src/metrics/counters.js';
import { EventBus } from '../../src/events/bridge-events.js';
import { BatchWriter } from '../../src/monitor/batch-writer.js';
import { isStoreUnavailable } from '../../src/store/store-errors.js';

const refused = () => Object.assign(new Error("Data too long for column 'message'"), { errno: 1406, sqlState: '22001' });
const down = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

function writer(write: (rows: string[]) => Promise<void>, counters = new Counters()) {
  return new BatchWriter<string>({
    name: 'chat_log', write, batchSize: 10, limit: 100, spillLimit: 0, flushDelayMs: 1, retryDelayMs: 1,
    events: new EventBus(counters), log: createLogger({ level: 'silent' }), isRetryable: isStoreUnavailable,
  });
}

describe('BatchWriter with a store that refuses rows', () => {
  it('writes a refused batch row by row and drops (and counts) only the refused rows', async () => {
    const written: string[] = [];
    const counters = new Counters();
    const w = writer(async (rows) => {
      if (rows.includes('poison')) throw refused();
      written.push(...rows);
    }, counters);
    for (const row of ['a', 'poison', 'b']) w.push(row);
    await w.flush();
    expect(written).toEqual(['a', 'b']);
    expect(w.pending).toBe(0);
    expect(counters.get('store_writes_dropped', 'chat_log')).toBe(1);
    expect(counters.get('store_rows_rejected', 'chat_log')).toBe(1);
    expect(counters.get('store_rows_written', 'chat_log')).toBe(2);
  });

  it('keeps the rest of a refused batch when the store goes away while writing row by row', async () => {
    const counters = new Counters();
    let calls = 0;
    const w = writer(async () => {
      calls += 1;
      if (calls === 1) throw refused();
      throw down();
    }, counters);
    for (const row of ['a', 'b', 'c']) w.push(row);
    await w.flush();
    expect(w.pending).toBe(3);
    expect(counters.get('store_writes_dropped', 'chat_log')).toBe(0);
    await w.close();
    expect(counters.get('store_writes_dropped', 'chat_log')).toBe(3);
  });
});

/** A gate the test opens: writes wait on it while it is closed (a slow store that still answers). */
function gate() {
  let open!: () => void;
  let promise = new Promise<void>((resolve) => (open = resolve));
  return {
    wait: () => promise,
    open: () => open(),
    close: () => (promise = new Promise<void>((resolve) => (open = resolve))),
  };
}

function captured() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ level: 'info' }, sink) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('BatchWriter under load', () => {
  it('pushes back at the limit while the store is slow, resumes below half, drops nothing', async () => {
    const counters = new Counters();
    const g = gate();
    const written: number[] = [];
    const signals: string[] = [];
    const w = new BatchWriter<number>({
      name: 'chat_log', batchSize: 25, limit: 40, spillLimit: 100, flushDelayMs: 1, retryDelayMs: 1,
      events: new EventBus(counters), log: createLogger({ level: 'silent' }), isRetryable: isStoreUnavailable,
      write: async (rows) => {
        await g.wait();
        written.push(...rows);
      },
      onSaturated: () => signals.push('saturated'),
      onUnsaturated: () => signals.push('unsaturated'),
    });
    for (let i = 0; i < 39; i += 1) w.push(i);
    await tick();
    expect(signals).toEqual([]);
    // The first batch (25 rows) hangs in the store; 40 waiting rows reach the limit.
    for (let i = 39; i < 65; i += 1) w.push(i);
    expect(w.pending).toBe(40);
    expect(signals).toEqual(['saturated']);
    expect(w.saturated).toBe(true);
    // Work admitted before the pause still lands (headroom), nothing is dropped.
    for (let i = 65; i < 120; i += 1) w.push(i);
    g.open();
    await w.flush();
    expect(signals).toEqual(['saturated', 'unsaturated']);
    expect(written).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(counters.total('store_writes_dropped')).toBe(0);
    expect(counters.get('store_rows_written', 'chat_log')).toBe(120);
  });

  it('bounds bytes as well as rows: long rows push back early, and the bytes are released once written', async () => {
    const counters = new Counters();
    const g = gate();
    const signals: string[] = [];
    const w = new BatchWriter<string>({
      name: 'chat_log', batchSize: 5, limit: 1_000, spillLimit: 4_000, flushDelayMs: 1, retryDelayMs: 1,
      limitBytes: 100_000, sizeOf: (row) => row.length * 2,
      events: new EventBus(counters), log: createLogger({ level: 'silent' }), isRetryable: isStoreUnavailable,
      write: () => g.wait(),
      onSaturated: () => signals.push('saturated'),
      onUnsaturated: () => signals.push('unsaturated'),
    });
    const long = 'x'.repeat(10_000); // 20,000 bytes a row
    w.push(long);
    await tick(); // the first row hangs in the store
    for (let i = 0; i < 4; i += 1) w.push(long);
    expect(signals).toEqual([]);
    w.push(long); // 5 rows waiting = 100,000 bytes: far below the row limit, at the byte limit
    expect(w.pending).toBe(5);
    expect(w.pendingBytes).toBe(100_000);
    expect(signals).toEqual(['saturated']);
    // The spill bound scales alike (500,000 bytes): rows beyond it are dropped, not buffered.
    for (let i = 0; i < 30; i += 1) w.push(long);
    expect(w.pendingBytes).toBeLessThanOrEqual(500_000);
    expect(counters.get('store_writes_dropped', 'chat_log')).toBe(35 - 25);
    g.open();
    await w.flush();
    expect(w.pending).toBe(0);
    expect(w.pendingBytes).toBe(0);
    expect(signals).toEqual(['saturated', 'unsaturated']);
  });

  it('batches take what is buffered up to batchSize (group commit)', async () => {
    const g = gate();
    const sizes: number[] = [];
    const w = writer(async (rows) => {
      await g.wait();
      sizes.push(rows.length);
    });
    w.push('first');
    await tick();
    for (let i = 0; i < 23; i += 1) w.push(`r${i}`);
    g.open();
    await w.flush();
    expect(sizes).toEqual([1, 10, 10, 3]);
  });

  it('while the store is down: no backpressure, rows spill up to the bound, the rest is dropped and logged once per interval', async () => {
    const counters = new Counters();
    const { lines, log } = captured();
    let failing = true;
    const written: number[] = [];
    const signals: string[] = [];
    const w = new BatchWriter<number>({
      name: 'chat_log', batchSize: 10, limit: 20, spillLimit: 30, flushDelayMs: 1, retryDelayMs: 1, dropLogIntervalMs: 60_000,
      events: new EventBus(counters), log, isRetryable: isStoreUnavailable,
      write: async (rows) => {
        if (failing) throw down();
        written.push(...rows);
      },
      onSaturated: () => signals.push('saturated'),
      onUnsaturated: () => signals.push('unsaturated'),
    });
    w.push(0);
    await w.flush();
    expect(w.storeDown).toBe(true);
    for (let i = 1; i < 100; i += 1) w.push(i);
    expect(signals).toEqual([]);
    expect(w.pending).toBe(50);
    expect(counters.get('store_writes_dropped', 'chat_log')).toBe(50);
    const drops = () => lines.filter((l) => l.msg === 'store rows dropped');
    expect(drops()).toHaveLength(1);
    expect(drops()[0]).toMatchObject({ writer: 'chat_log', dropped: 1 });
    failing = false;
    w.retryNow();
    await w.flush();
    expect(written).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await w.close();
    // The rest of the interval's count is logged at close: the lines add up to the counter.
    expect(drops()).toHaveLength(2);
    expect(drops().reduce((sum, l) => sum + (l.dropped as number), 0)).toBe(50);
  });

  it('lifts backpressure when the store goes down, so reading resumes', async () => {
    const g = gate();
    let storeDown = false;
    const signals: string[] = [];
    const w = new BatchWriter<number>({
      name: 'ping', batchSize: 5, limit: 10, spillLimit: 10, flushDelayMs: 1, retryDelayMs: 1,
      events: new EventBus(new Counters()), log: createLogger({ level: 'silent' }), isRetryable: isStoreUnavailable,
      storeDown: () => storeDown,
      write: () => g.wait(),
      onSaturated: () => signals.push('saturated'),
      onUnsaturated: () => signals.push('unsaturated'),
    });
    w.push(0);
    await tick();
    for (let i = 1; i <= 10; i += 1) w.push(i);
    expect(signals).toEqual(['saturated']);
    storeDown = true;
    w.updateSaturation();
    expect(signals).toEqual(['saturated', 'unsaturated']);
    g.open();
    await w.close();
  });
});
