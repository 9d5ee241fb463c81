import type { BridgeError } from '../../errors.js';
import { invalidStoreUrl } from '../store-url.js';
import type { Dialect } from './dialect.js';
import { mysqlDialect } from './mysql.js';
import { sqliteDialect } from './sqlite.js';

/**
 * The dialects a store URL may name, tried in order (the first that recognises the URL opens
 * it). Adding a dialect is one file beside these and one entry here (docs/architecture.md,
 * "How to add a dialect").
 */
const DIALECTS = [sqliteDialect, mysqlDialect] as const;

/** What any known store URL parses to, narrowed by `kind`. */
export type StoreTarget = ReturnType<(typeof DIALECTS)[number]['parseUrl']>;

/** Every known dialect, for what applies to all of them (error classification). */
export const KNOWN_DIALECTS: readonly Dialect[] = DIALECTS;

/** The dialect a store URL names, or undefined. */
export function findDialect(url: string): Dialect | undefined {
  const trimmed = url.trim();
  return KNOWN_DIALECTS.find((dialect) => dialect.recognises(trimmed));
}

function unknownScheme(url: string): BridgeError {
  return invalidStoreUrl(url, `expected ${KNOWN_DIALECTS.map((d) => d.urlForm).join(' or ')}`);
}

/** The dialect a store URL names; an unknown scheme fails with BRIDGE_ERR_STORE_URL. */
export function dialectFor(url: string): Dialect {
  const dialect = findDialect(url);
  if (dialect === undefined) throw unknownScheme(url);
  return dialect;
}

/** Validates a store URL; a relative SQLite path resolves against `cwd`. */
export function parseStoreUrl(url: string, cwd: string = process.cwd()): StoreTarget {
  const trimmed = url.trim();
  const dialect = DIALECTS.find((d) => d.recognises(trimmed));
  if (dialect === undefined) throw unknownScheme(url);
  return dialect.parseUrl(trimmed, cwd);
}
