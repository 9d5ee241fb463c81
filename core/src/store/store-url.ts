import { BridgeError } from '../errors.js';

/**
 * Store URLs name their dialect by scheme (`sqlite:PATH`, `mysql://...`; the dialects parse
 * them, dialects/registry.ts picks one). A password never reaches an error message or a
 * description: use redactStoreUrl.
 */

/**
 * Replaces the password of `scheme://user:password@host` (parseable or not) with `***`, also in
 * mistyped forms with fewer slashes (`mysql:/user:password@host`, `mysql:user:password@host`).
 */
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
  return url.replace(/^([a-z][a-z0-9+.-]*:\/{0,2}[^:/@]*:)[^@]*@/i, '$1***@');
}

/** BRIDGE_ERR_STORE_URL for a URL a dialect cannot use, its password redacted. */
export function invalidStoreUrl(url: string, reason: string): BridgeError {
  return new BridgeError('BRIDGE_ERR_STORE_URL', { url: redactStoreUrl(url), reason });
}
