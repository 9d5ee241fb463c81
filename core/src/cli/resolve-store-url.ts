import type { StoreOpenOptions } from '../store/open-store.js';

/** The store URL when nothing else names one (same as the config schema's default). */
export const DEFAULT_STORE_URL = 'sqlite:./data/botbridge.db';

export interface StoreOptions {
  readonly store?: string;
  readonly config?: string;
}

/**
 * `--store`, else $BOTBRIDGE_STORE, else `store.url` of the config file (--config, or
 * ./bridge.config.ts when present), else the default. The same order `botbridge start` uses, so
 * the CLI edits the database the server reads. The config file is loaded only when needed: it
 * may import plugins.
 *
 * With the URL, the MySQL settings (`store.timeZone`, pool bounds) of the config file when the
 * URL came from there, so the CLI stamps times at the same zone as the server reading them; with
 * `--store` or $BOTBRIDGE_STORE they are the defaults.
 */
export async function resolveStore(options: StoreOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; settings: StoreOpenOptions }> {
  if (options.store !== undefined && options.store !== '') return { url: options.store, settings: {} };
  const fromEnv = env.BOTBRIDGE_STORE;
  if (fromEnv !== undefined && fromEnv !== '') return { url: fromEnv, settings: {} };
  const { loadBridgeConfig } = await import('../config/load-config.js');
  const { store } = (await loadBridgeConfig(options.config)).settings;
  const { connectionLimit, queueLimit, connectTimeoutMs, queryTimeoutMs, timeZone } = store;
  return { url: store.url || DEFAULT_STORE_URL, settings: { connectionLimit, queueLimit, connectTimeoutMs, queryTimeoutMs, timeZone } };
}
