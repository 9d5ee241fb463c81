import { BridgeError } from '../errors.js';
import { KNOWN_DIALECTS } from './dialects/registry.js';

/**
 * Whether a store error means the database could not be reached or did not answer in time
 * (the store is unavailable: retry later, and fail closed meanwhile) rather than that it
 * answered and refused one statement (bad data, a key conflict, a missing column: retrying the
 * same statement cannot help). Driver errors are judged by their dialect (`isUnavailable`);
 * unknown errors count as unavailable.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof BridgeError) return error.code !== 'BRIDGE_ERR_STORE_KEY_CONFLICT';
  if (error === null || typeof error !== 'object') return true;
  for (const dialect of KNOWN_DIALECTS) {
    const verdict = dialect.isUnavailable(error);
    if (verdict !== undefined) return verdict;
  }
  return true;
}

/** MySQL row-lock contention: a deadlock victim (1213) or a lock wait timeout (1205). */
const LOCK_CONTENTION_ERRNOS: ReadonlySet<number> = new Set([1205, 1213]);

/**
 * Whether a store error is row-lock contention between writers (several cluster nodes committing
 * into one journal): worth retrying like an unavailable store, but the server did answer, so it
 * says nothing against the store's health (handshakes keep being approved).
 */
export function isLockContention(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { errno?: unknown; sqlState?: unknown };
  return typeof e.sqlState === 'string' && typeof e.errno === 'number' && LOCK_CONTENTION_ERRNOS.has(e.errno);
}
