import { BridgeError } from '../errors.js';
import { openSqliteStore } from './sqlite.js';
import { parseStoreUrl } from './store-url.js';
import type { Store } from './types.js';

/** Opens the store a URL names and brings its schema up to date. */
export async function openStore(url: string): Promise<Store> {
  const target = parseStoreUrl(url);
  if (target.kind === 'mysql') {
    throw new BridgeError('BRIDGE_ERR_STORE_URL', { url: target.redacted, reason: 'mysql support arrives with the MySQL store' });
  }
  const store = openSqliteStore(target.path);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
