import { resolve } from 'node:path';
import { BridgeError } from '../errors.js';

/**
 * Store URLs:
 * - `sqlite:PATH`: a SQLite file; a relative PATH resolves against the working directory;
 *   `sqlite::memory:` is a private in-memory database (tests).
 * - `mysql://user:pass@host:port/db` (or `mariadb://`): recognised now, opened by the MySQL store.
 * A password never reaches an error message or a description: use redactStoreUrl.
 */
export type StoreTarget =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'mysql';
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly password: string;
      readonly database: string;
      /** Query parameters (e.g. `?ssl=true`), for the MySQL store to interpret. */
      readonly params: Readonly<Record<string, string>>;
      /** The URL with the password replaced. */
      readonly redacted: string;
    };

export const SQLITE_MEMORY = ':memory:';

const MYSQL_DEFAULT_PORT = 3306;

/** Replaces the password of `scheme://user:password@host` (parseable or not) with `***`. */
export function redactStoreUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') {
      parsed.password = '***';
      return parsed.toString();
    }
    if (parsed.host !== '') return url;
  } catch {
    // fall through to the textual redaction below
  }
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

function invalid(url: string, reason: string): BridgeError {
  return new BridgeError('BRIDGE_ERR_STORE_URL', { url: redactStoreUrl(url), reason });
}

function parseMysqlUrl(url: string): StoreTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(url, 'not a valid URL (expected mysql://user:password@host:port/database)');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (parsed.hostname === '') throw invalid(url, 'no host');
  if (database === '' || database.includes('/')) throw invalid(url, 'expected exactly one database name in the path');
  const params: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) params[key] = value;
  return {
    kind: 'mysql',
    host: parsed.hostname,
    port: parsed.port === '' ? MYSQL_DEFAULT_PORT : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    params,
    redacted: redactStoreUrl(url),
  };
}

export function parseStoreUrl(url: string, cwd: string = process.cwd()): StoreTarget {
  const trimmed = url.trim();
  if (/^sqlite:/i.test(trimmed)) {
    const path = trimmed.slice('sqlite:'.length);
    if (path === '') throw invalid(url, 'no file path after sqlite:');
    if (path === SQLITE_MEMORY) return { kind: 'sqlite', path: SQLITE_MEMORY };
    return { kind: 'sqlite', path: resolve(cwd, path) };
  }
  if (/^(mysql|mariadb):\/\//i.test(trimmed)) return parseMysqlUrl(trimmed);
  throw invalid(url, 'expected sqlite:PATH or mysql://user:password@host:port/database');
}

/** The target as it may appear in logs and error messages. */
export function describeStoreTarget(target: StoreTarget): string {
  return target.kind === 'sqlite' ? `sqlite:${target.path}` : target.redacted;
}
