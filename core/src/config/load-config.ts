import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BridgeConfig, BridgeSettings, PluginEntry } from '@botbridge/sdk';
import { bridgeConfigSchema } from '@botbridge/sdk/internal';
import { BridgeError, reasonOf } from '../errors.js';

export interface LoadedConfig {
  readonly settings: BridgeSettings;
  readonly plugins: PluginEntry[];
  /** Absolute path of the file read, or null when defaults were used. */
  readonly file: string | null;
}

export const DEFAULT_CONFIG_FILE = 'bridge.config.ts';

/**
 * Reads the operator's `bridge.config.ts` (its default export, usually `defineConfig({...})`)
 * and validates it. Without a file argument it looks for ./bridge.config.ts and falls back to
 * the defaults when there is none; an explicitly named file that is missing is an error.
 */
export async function loadBridgeConfig(file?: string): Promise<LoadedConfig> {
  const path = resolve(file ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(path)) {
    if (file !== undefined) throw new BridgeError('BRIDGE_ERR_CONFIG_LOAD', { file: path, reason: 'file not found' });
    return { ...resolveConfig({}), file: null };
  }
  let loaded: unknown;
  try {
    const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
    loaded = mod.default;
  } catch (error) {
    throw new BridgeError('BRIDGE_ERR_CONFIG_LOAD', { file: path, reason: reasonOf(error) }, { cause: error });
  }
  if (loaded === null || typeof loaded !== 'object') {
    throw new BridgeError('BRIDGE_ERR_CONFIG_LOAD', { file: path, reason: 'the default export is not a config object' });
  }
  return { ...resolveConfig(loaded as BridgeConfig), file: path };
}

/** Validates a config object; errors name the first offending path. */
export function resolveConfig(config: BridgeConfig): { settings: BridgeSettings; plugins: PluginEntry[] } {
  const { plugins = [], ...rest } = config;
  const parsed = bridgeConfigSchema.safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BridgeError('BRIDGE_ERR_CONFIG_INVALID', {
      path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
      reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    });
  }
  return { settings: parsed.data, plugins: [...plugins] };
}
