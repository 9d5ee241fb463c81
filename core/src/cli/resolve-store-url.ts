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
 */
export async function resolveStoreUrl(options: StoreOptions, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (options.store !== undefined && options.store !== '') return options.store;
  const fromEnv = env.BOTBRIDGE_STORE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const { loadBridgeConfig } = await import('../config/load-config.js');
  const loaded = await loadBridgeConfig(options.config);
  return loaded.settings.store.url || DEFAULT_STORE_URL;
}
