import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { BridgeConfig } from '@botbridge/sdk';
import { bridgeConfigSchema } from '@botbridge/sdk/internal';
import { BridgeError } from '../errors.js';
import { keysAt } from './config-issues.js';

/**
 * Per-host settings from environment variables (what a systemd EnvironmentFile or `docker run
 * -e` sets). Precedence: command-line flag > environment variable > bridge.config.ts > default.
 * The variables are applied to the config object before the schema validates it, so a value the
 * schema refuses is refused like one in the file; values whose form is wrong (a port that is not
 * a number) are refused here, with the variable's name (`BRIDGE_ERR_CONFIG_ENV`).
 */

/** One variable: its name, the config path it sets, and how its text becomes a value. */
interface EnvSetting {
  readonly name: string;
  readonly path: readonly [string, string];
  readonly parse: (text: string) => unknown;
  readonly doc: string;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function port(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) throw new Error('expected a TCP port, 0-65535');
  return Number(text);
}

function host(text: string): string {
  // A name (localhost, a container's hostname) or an IP address; no scheme, port or spaces.
  if (isIP(text) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text)) throw new Error('expected an IP address or a host name');
  return text;
}

function logLevel(text: string): string {
  if (!LOG_LEVELS.includes(text)) throw new Error(`expected one of ${LOG_LEVELS.join(', ')}`);
  return text;
}

function storeUrl(text: string): string {
  if (!/^(sqlite:|mysql:\/\/|mariadb:\/\/)/i.test(text)) throw new Error('expected sqlite:PATH or mysql://user:password@host:port/database');
  return text;
}

function natsUrl(text: string): string {
  for (const part of text.split(',')) {
    let url: URL;
    try {
      url = new URL(part.trim());
    } catch {
      throw new Error('expected nats://host:port (several separated by commas)');
    }
    if (!['nats:', 'tls:'].includes(url.protocol) || url.hostname === '') throw new Error('expected nats://host:port (several separated by commas)');
  }
  return text;
}

function nodeId(text: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) throw new Error('expected 1-64 letters, digits, dashes or underscores');
  return text;
}

export const ENV_SETTINGS: readonly EnvSetting[] = [
  { name: 'BOTBRIDGE_PORT', path: ['listen', 'port'], parse: port, doc: 'listen.port' },
  { name: 'BOTBRIDGE_HOST', path: ['listen', 'host'], parse: host, doc: 'listen.host' },
  { name: 'BOTBRIDGE_HTTP_PORT', path: ['http', 'port'], parse: port, doc: 'http.port' },
  { name: 'BOTBRIDGE_HTTP_HOST', path: ['http', 'host'], parse: host, doc: 'http.host' },
  { name: 'BOTBRIDGE_LOG_LEVEL', path: ['log', 'level'], parse: logLevel, doc: 'log.level' },
  { name: 'BOTBRIDGE_STORE', path: ['store', 'url'], parse: storeUrl, doc: 'store.url' },
  { name: 'BOTBRIDGE_CLUSTER_URL', path: ['cluster', 'url'], parse: natsUrl, doc: 'cluster.url' },
  { name: 'BOTBRIDGE_NODE_ID', path: ['cluster', 'nodeId'], parse: nodeId, doc: 'cluster.nodeId' },
];

function envError(variable: string, reason: string): BridgeError {
  return new BridgeError('BRIDGE_ERR_CONFIG_ENV', { variable, reason });
}

/** The variable's value, or undefined when unset or empty (an empty `-e VAR=` means "not set"). */
function valueOf(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * The config object with the environment's settings laid over it (a new object; the file's is
 * not changed). Throws BRIDGE_ERR_CONFIG_ENV naming the first variable with a malformed value.
 */
export function applyEnvOverrides(config: BridgeConfig, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const result: Record<string, unknown> = { ...config };
  const topKeys = keysAt(bridgeConfigSchema, []);
  for (const setting of ENV_SETTINGS) {
    const text = valueOf(env, setting.name);
    if (text === undefined) continue;
    const [section, key] = setting.path;
    // The cluster section comes with cluster support; an older build says so instead of "unknown key".
    if (!topKeys.includes(section)) throw envError(setting.name, `this botbridge has no ${section} support (${setting.doc} is not a config key)`);
    let value: unknown;
    try {
      value = setting.parse(text);
    } catch (error) {
      throw envError(setting.name, `${JSON.stringify(redactIfStore(setting.name, text))}: ${(error as Error).message}`);
    }
    const current = result[section];
    result[section] = { ...(current !== null && typeof current === 'object' ? current : {}), [key]: value };
  }
  const cluster = result.cluster as { url?: unknown } | undefined;
  if (valueOf(env, 'BOTBRIDGE_NODE_ID') !== undefined && (cluster?.url === undefined || cluster.url === '')) {
    throw envError('BOTBRIDGE_NODE_ID', 'a node id needs a cluster: set BOTBRIDGE_CLUSTER_URL or cluster.url too');
  }
  const token = adminTokenFromEnv(env);
  if (token !== undefined) {
    const http = result.http;
    result.http = { ...(http !== null && typeof http === 'object' ? http : {}), adminToken: token.value };
  }
  return result as BridgeConfig;
}

/** A store URL may carry a password: shown without it. */
function redactIfStore(name: string, text: string): string {
  return name === 'BOTBRIDGE_STORE' ? text.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@') : text;
}

export interface EnvToken {
  readonly value: string;
  /** `BOTBRIDGE_ADMIN_TOKEN` or the file `BOTBRIDGE_ADMIN_TOKEN_FILE` names. */
  readonly source: string;
  /** The token file's permission bits, when it came from a file. */
  readonly fileMode?: number;
}

/**
 * The admin token from `BOTBRIDGE_ADMIN_TOKEN_FILE` (a file holding it, e.g. a Docker or systemd
 * credential; one trailing newline is ignored) or `BOTBRIDGE_ADMIN_TOKEN`. Both set is an error:
 * which one wins would be a guess.
 */
export function adminTokenFromEnv(env: NodeJS.ProcessEnv = process.env): EnvToken | undefined {
  const file = valueOf(env, 'BOTBRIDGE_ADMIN_TOKEN_FILE');
  const direct = valueOf(env, 'BOTBRIDGE_ADMIN_TOKEN');
  if (file !== undefined && direct !== undefined) {
    throw envError('BOTBRIDGE_ADMIN_TOKEN_FILE', 'BOTBRIDGE_ADMIN_TOKEN is set as well; set only one of them');
  }
  if (direct !== undefined) return { value: direct, source: 'BOTBRIDGE_ADMIN_TOKEN' };
  if (file === undefined) return undefined;
  const path = resolve(file);
  let text: string;
  let mode: number;
  try {
    text = readFileSync(path, 'utf8');
    mode = statSync(path).mode & 0o777;
  } catch (error) {
    throw envError('BOTBRIDGE_ADMIN_TOKEN_FILE', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '' || /\s/.test(value)) throw envError('BOTBRIDGE_ADMIN_TOKEN_FILE', `${path} must hold the token alone on one line`);
  return { value, source: path, fileMode: mode };
}

/** `--config`, else `BOTBRIDGE_CONFIG`, else undefined (./bridge.config.ts). */
export function configFileFromEnv(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? valueOf(env, 'BOTBRIDGE_CONFIG');
}
