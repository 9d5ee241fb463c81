import { dialectFor } from './dialects/registry.js';
import type { MysqlStoreOptions } from './mysql.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './types.js';

/** Settings of a server store's pool (the `store.*` config keys); SQLite ignores them. */
export type StoreOpenOptions = Partial<MysqlStoreOptions>;

/** Opens the store a URL names (its dialect: dialects/registry.ts) and brings its schema up to date. */
export async function openStore(url: string, options: StoreOpenOptions = {}): Promise<Store> {
  const dialect = dialectFor(url);
  const connection = await dialect.open(dialect.parseUrl(url.trim(), process.cwd()), options);
  const store = new SqlStore(connection.db, { ...connection, dialect });
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
