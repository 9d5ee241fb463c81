import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { Counters } from '../../src/metrics/counters.js';
import { EventBus } from '../../src/events/bridge-events.js';
import { BatchWriter } from '../../src/monitor/batch-writer.js';
import { isStoreUnavailable } from '../../src/store/store-errors.js';

const refused = () => Object.assign(new Error("Data too long for column 'message'"), { errno: 1406, sqlState: '22001' });
const down = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

function writer(write: (rows: string[]) => Promise<void>, counters = new Counters()) {
  return new BatchWriter<string>({
    name: 'chat_log', write, batchSize: 10, limit: 100, flushDelayMs: 1, retryDelayMs: 1,
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
