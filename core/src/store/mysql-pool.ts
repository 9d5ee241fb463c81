import type { MysqlPool, MysqlPoolConnection, MysqlQueryResult, MysqlStream, MysqlStreamOptions } from 'kysely';
import type { Pool, PoolConnection } from 'mysql2';
import { BridgeError } from '../errors.js';

export interface PoolDeadlines {
  /** Longest wait for a connection, pooled or new. */
  readonly acquireTimeoutMs: number;
  /** Longest wait for one statement's result. */
  readonly queryTimeoutMs: number;
}

type QueryCallback = (error: unknown, result: MysqlQueryResult) => void;
type Streamable = { stream: <T>(options: MysqlStreamOptions) => MysqlStream<T> };

/**
 * Puts deadlines on the mysql2 pool Kysely drives, so a dead or stalled database costs a caller
 * a bounded wait and never a hung handshake or writer.
 *
 * mysql2's own `timeout` query option is not used on purpose: it only rejects the caller's
 * promise and leaves the command queued on the connection, so the next statement on that
 * connection (Kysely's ROLLBACK, or another caller's query) waits behind it; mysql2's pool has
 * no acquire timeout at all. Here a query past its deadline destroys its connection (the pool
 * drops it and the server rolls back whatever it held) and fails with BRIDGE_ERR_STORE_TIMEOUT;
 * a connection that arrives after its caller gave up goes straight back to the pool.
 */
export function boundedPool(pool: Pool, deadlines: PoolDeadlines): MysqlPool {
  const wrappers = new WeakMap<PoolConnection, BoundedConnection>();
  return {
    getConnection(callback) {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        callback(timeoutError('connection', deadlines.acquireTimeoutMs), undefined as never);
      }, deadlines.acquireTimeoutMs);
      pool.getConnection((error, connection) => {
        if (settled) {
          if (error === null) connection.release();
          return;
        }
        settled = true;
        clearTimeout(timer);
        if (error !== null) {
          callback(error, undefined as never);
          return;
        }
        let wrapper = wrappers.get(connection);
        if (wrapper === undefined) {
          wrapper = new BoundedConnection(connection, deadlines.queryTimeoutMs);
          wrappers.set(connection, wrapper);
        }
        callback(null, wrapper);
      });
    },
    end(callback) {
      pool.end((error) => callback(error ?? null));
    },
  };
}

function timeoutError(operation: string, timeoutMs: number): BridgeError {
  return new BridgeError('BRIDGE_ERR_STORE_TIMEOUT', { operation, timeoutMs });
}

class BoundedConnection implements MysqlPoolConnection {
  /** Destroyed after a timeout: never released back into the pool. */
  private broken = false;

  constructor(
    private readonly raw: PoolConnection,
    private readonly timeoutMs: number,
  ) {}

  query(sql: string, parameters: unknown[]): Streamable;
  query(sql: string, parameters: unknown[], callback: QueryCallback): void;
  query(sql: string, parameters: unknown[], callback?: QueryCallback): unknown {
    // Streaming (no callback) is not bounded; botbridge never streams.
    if (callback === undefined) return this.raw.query(sql, parameters) as unknown as Streamable;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      this.broken = true;
      this.raw.destroy();
      callback(timeoutError('query', this.timeoutMs), undefined as never);
    }, this.timeoutMs);
    this.raw.query({ sql, values: parameters }, (error, result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      callback(error, result as MysqlQueryResult);
    });
    return undefined;
  }

  release(): void {
    if (!this.broken) this.raw.release();
  }
}
