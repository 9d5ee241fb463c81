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
