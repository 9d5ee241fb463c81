import { existsSync } from 'node:fs';
import type { StoreOpenOptions } from '../store/open-store.js';
import { parseStoreUrl } from '../store/dialects/registry.js';
import { CliError } from './cli-io.js';

/** The store URL when nothing else names one (same as the config schema's default). */
export const DEFAULT_STORE_URL = 'sqlite:./data/botbridge.db';

export interface StoreOptions {
  readonly store?: string;
  readonly config?: string;
}

export interface ResolvedStore {
  readonly url: string;
  readonly settings: StoreOpenOptions;
  /** Where the URL came from, for messages: `--store`, `$BOTBRIDGE_STORE`, `store.url of <file>`, `the default`. */
  readonly source: string;
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
export async function resolveStore(options: StoreOptions, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedStore> {
  if (options.store !== undefined && options.store !== '') return { url: options.store, settings: {}, source: '--store' };
  const fromEnv = env.BOTBRIDGE_STORE;
  if (fromEnv !== undefined && fromEnv !== '') return { url: fromEnv, settings: {}, source: '$BOTBRIDGE_STORE' };
  const { loadBridgeConfig } = await import('../config/load-config.js');
  const loaded = await loadBridgeConfig(options.config);
  const { store } = loaded.settings;
  const { connectionLimit, queueLimit, connectTimeoutMs, queryTimeoutMs, timeZone } = store;
  const fromConfig = store.url !== '' && store.url !== DEFAULT_STORE_URL && loaded.file !== null;
  return {
    url: store.url || DEFAULT_STORE_URL,
    settings: { connectionLimit, queueLimit, connectTimeoutMs, queryTimeoutMs, timeZone },
    source: fromConfig ? `store.url of ${loaded.file}` : loaded.file === null ? 'the default (no bridge.config.ts here)' : `the default (${loaded.file} names no store.url)`,
  };
}

/**
 * The approval commands never create a store: run in the wrong folder, they would otherwise
 * make an empty database there and report "no devices". Only the server (`botbridge start`)
 * creates the SQLite file; a server store (MySQL) is checked by connecting.
 */
export function requireExistingStore(resolved: ResolvedStore, cwd: string = process.cwd()): void {
  const target = parseStoreUrl(resolved.url, cwd);
  if (target.kind !== 'sqlite' || target.path === ':memory:' || existsSync(target.path)) return;
  throw new CliError(
    `no store at sqlite:${target.path} (from ${resolved.source}); botbridge start creates it. `
      + 'Run this command in the folder of your bridge.config.ts, or name the store with --store URL or $BOTBRIDGE_STORE.',
  );
}
