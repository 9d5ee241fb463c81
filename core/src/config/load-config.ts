import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BridgeConfig, BridgeSettings, PluginEntry } from '@botbridge/sdk';
import { bridgeConfigSchema } from '@botbridge/sdk/internal';
import { BridgeError, reasonOf } from '../errors.js';
import { describeIssues, firstPath } from './config-issues.js';
import { importFresh } from './fresh-import.js';
import { applyEnvOverrides, configFileFromEnv, ENV_SETTINGS } from './env-overrides.js';

export interface LoadedConfig {
  readonly settings: BridgeSettings;
  readonly plugins: PluginEntry[];
  /** Absolute path of the file read, or null when defaults were used. */
  readonly file: string | null;
}

export const DEFAULT_CONFIG_FILE = 'bridge.config.ts';

/**
 * Reads the operator's `bridge.config.ts` (its default export, usually `defineConfig({...})`),
 * lays the environment's per-host settings over it (env-overrides.ts) and validates it. Without a
 * file argument it reads the file `BOTBRIDGE_CONFIG` names, else ./bridge.config.ts, and falls
 * back to the defaults when there is none; a named file that is missing is an error.
 * `fresh`: a hot reload's read, past the module cache (config/fresh-import.ts).
 */
export async function loadBridgeConfig(
  file?: string,
  options: { readonly env?: NodeJS.ProcessEnv; readonly fresh?: boolean } = {},
): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const named = configFileFromEnv(file, env);
  const path = resolve(named ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(path)) {
    if (named !== undefined) {
      const via = file === undefined ? ' (named by BOTBRIDGE_CONFIG)' : '';
      throw new BridgeError('BRIDGE_ERR_CONFIG_LOAD', { file: path, reason: `file not found${via}` });
    }
    return { ...resolveWithEnv({}, env), file: null };
  }
  let loaded: unknown;
  try {
    const mod = (await (options.fresh === true ? importFresh(path) : import(pathToFileURL(path).href))) as { default?: unknown };
    loaded = mod.default;
  } catch (error) {
    throw new BridgeError('BRIDGE_ERR_CONFIG_LOAD', { file: path, reason: firstLine(reasonOf(error)) + missingPackageHint(error, path) }, { cause: error });
  }
  if (loaded === null || typeof loaded !== 'object') {
    throw new BridgeError('BRIDGE_ERR_CONFIG_LOAD', { file: path, reason: 'the default export is not a config object' });
  }
  return { ...resolveWithEnv(loaded as BridgeConfig, env), file: path };
}

/** resolveConfig of the file's object with the environment laid over it; a refused value names its variable. */
function resolveWithEnv(config: BridgeConfig, env: NodeJS.ProcessEnv): { settings: BridgeSettings; plugins: PluginEntry[] } {
  const withEnv = applyEnvOverrides(config, env);
  try {
    return resolveConfig(withEnv);
  } catch (error) {
    if (!(error instanceof BridgeError) || error.code !== 'BRIDGE_ERR_CONFIG_INVALID') throw error;
    const set = ENV_SETTINGS.filter((s) => env[s.name] !== undefined && env[s.name]!.trim() !== '');
    const tokenVar = env.BOTBRIDGE_ADMIN_TOKEN_FILE?.trim() ? 'BOTBRIDGE_ADMIN_TOKEN_FILE' : env.BOTBRIDGE_ADMIN_TOKEN?.trim() ? 'BOTBRIDGE_ADMIN_TOKEN' : undefined;
    const sources = [...set.map((s) => ({ doc: s.doc, name: s.name })), ...(tokenVar ? [{ doc: 'http.adminToken', name: tokenVar }] : [])];
    const issues = String(error.params.issues).split('; ').map((line) => {
      const source = sources.find((s) => line.startsWith(`${s.doc}:`));
      return source === undefined ? line : `${line} (set by ${source.name})`;
    });
    throw new BridgeError('BRIDGE_ERR_CONFIG_INVALID', { ...error.params, issues: issues.join('; ') }, { cause: error });
  }
}

/** Validates a config object; the error lists every problem, unknown keys with a suggestion. */
export function resolveConfig(config: BridgeConfig): { settings: BridgeSettings; plugins: PluginEntry[] } {
  const { plugins = [], ...rest } = config;
  const parsed = bridgeConfigSchema.safeParse(rest);
  if (!parsed.success) {
    const { issues } = parsed.error;
    throw new BridgeError('BRIDGE_ERR_CONFIG_INVALID', { path: firstPath(issues), issues: describeIssues(issues, bridgeConfigSchema).join('; ') });
  }
  return { settings: parsed.data, plugins: [...plugins] };
}

/**
 * A config outside this repository imports @botbridge/sdk and its plugins from the node_modules
 * of its own folder (Node resolves from the importing file), where nothing installed them. The
 * botbridge packages are not on the registry, so the hint names this installation's folder.
 */
function missingPackageHint(error: unknown, file: string): string {
  const code = (error as { code?: unknown }).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return '';
  const name = /Cannot find (?:module|package) '((?:@[^/']+\/)?[^/'.][^/']*)/.exec(reasonOf(error))?.[1];
  if (name === undefined) return '';
  const folder = dirname(file);
  const local = name.startsWith('@botbridge/') ? ownPackageDir(name) : undefined;
  return `; packages a config imports resolve from its own folder: run \`cd ${folder} && npm install ${local ?? name}\``
    + (local === undefined ? '' : ' (the botbridge packages are installed from a botbridge checkout, not the registry)');
}

/** The folder of one of botbridge's own packages in this installation, if it has it. */
function ownPackageDir(name: string): string | undefined {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    for (let i = 0; i < 5 && !existsSync(join(dir, 'package.json')); i += 1) dir = dirname(dir);
    return realpathSync(dir);
  } catch {
    return undefined;
  }
}

/** Node's "Require stack" follows the first line; the log keeps it in the error's cause. */
function firstLine(text: string): string {
  return text.split('\n', 1)[0]!;
}
