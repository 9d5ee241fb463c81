import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../src/errors.js';
import { isStoreUnavailable } from '../../src/store/store-errors.js';
import { StoreHealth } from '../../src/store/store-health.js';
import type { StoreHealthState } from '../../src/store/store-health.js';

describe('isStoreUnavailable', () => {
  it('counts network failures, timeouts and "not now" server errors as unavailable', () => {
    expect(isStoreUnavailable(new BridgeError('BRIDGE_ERR_STORE_TIMEOUT', { operation: 'query', timeoutMs: 1 }))).toBe(true);
    expect(isStoreUnavailable(new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: 'closed' }))).toBe(true);
    expect(isStoreUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isStoreUnavailable(Object.assign(new Error('lost'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))).toBe(true);
    expect(isStoreUnavailable(Object.assign(new Error('Too many connections'), { errno: 1040, sqlState: '08004' }))).toBe(true);
    expect(isStoreUnavailable(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))).toBe(true);
    expect(isStoreUnavailable('something odd')).toBe(true);
  });

  it('counts a statement the database refused as an answer', () => {
    expect(isStoreUnavailable(Object.assign(new Error("Data too long for column 'message'"), { errno: 1406, sqlState: '22001' }))).toBe(false);
    expect(isStoreUnavailable(Object.assign(new Error("Unknown column 'x'"), { errno: 1054, sqlState: '42S22' }))).toBe(false);
    expect(isStoreUnavailable(Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }))).toBe(false);
    expect(isStoreUnavailable(new BridgeError('BRIDGE_ERR_STORE_KEY_CONFLICT', { table: 't', key: 'k', reason: 'r' }))).toBe(false);
  });
});

describe('StoreHealth', () => {
  it('degrades on the first unavailable error, recovers on the next answer, reporting each transition once', () => {
    const seen: [StoreHealthState, string | null][] = [];
    const health = new StoreHealth({ onChange: (state, reason) => seen.push([state, reason]) });
    expect(health).toMatchObject({ state: 'healthy', healthy: true, recoveries: 0 });
    health.answered();
    health.failed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    health.failed(new BridgeError('BRIDGE_ERR_STORE_TIMEOUT', { operation: 'query', timeoutMs: 5 }));
    expect(health).toMatchObject({ state: 'degraded', healthy: false, recoveries: 0, reason: 'connect ECONNREFUSED' });
    // A refusal is an answer: the database is there.
    health.failed(Object.assign(new Error('Data too long'), { errno: 1406, sqlState: '22001' }));
    expect(health).toMatchObject({ state: 'healthy', recoveries: 1 });
    health.answered();
    expect(seen).toEqual([['degraded', 'connect ECONNREFUSED'], ['healthy', null]]);
  });

  it('does not degrade on row-lock contention (a deadlock victim, a lock wait timeout): the server answered', () => {
    const deadlock = Object.assign(new Error('Deadlock found when trying to get lock'), { errno: 1213, sqlState: '40001' });
    const lockWait = Object.assign(new Error('Lock wait timeout exceeded'), { errno: 1205, sqlState: 'HY000' });
    // Still worth a retry: the statement did not run.
    expect(isStoreUnavailable(deadlock)).toBe(true);
    const health = new StoreHealth();
    health.failed(deadlock);
    health.failed(lockWait);
    expect(health).toMatchObject({ state: 'healthy', healthy: true });
    health.failed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(health.state).toBe('degraded');
    health.failed(deadlock);
    expect(health).toMatchObject({ state: 'healthy', recoveries: 1 });
  });
});
