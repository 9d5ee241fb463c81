import { MYSQL_DEFAULTS, openMysqlStore } from './mysql.js';
import type { MysqlStoreOptions } from './mysql.js';
import { openSqliteStore } from './sqlite.js';
import { parseStoreUrl } from './store-url.js';
import type { Store } from './types.js';

/** Settings of the MySQL pool (the `store.*` config keys); SQLite ignores them. */
export type StoreOpenOptions = Partial<MysqlStoreOptions>;

/** Opens the store a URL names and brings its schema up to date. */
export async function openStore(url: string, options: StoreOpenOptions = {}): Promise<Store> {
  const target = parseStoreUrl(url);
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const store = target.kind === 'mysql'
    ? await openMysqlStore(target, { ...MYSQL_DEFAULTS, ...defined })
    : openSqliteStore(target.path);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
