import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeError } from '../../src/errors.js';
import { loadBridgeConfig } from '../../src/config/load-config.js';
import { adminTokenFromEnv, ENV_SETTINGS } from '../../src/config/env-overrides.js';

/** Per-host environment variables: precedence over the file, clear errors naming the variable. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configDir(body = "export default { listen: { port: 1600, host: '127.0.0.1' }, http: { port: 9000 }, log: { level: 'warn' } };\n"): string {
  const dir = mkdtempSync(join(tmpdir(), 'botbridge-env-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'bridge.config.ts'), body);
  return dir;
}

async function failure(run: () => Promise<unknown>): Promise<BridgeError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof BridgeError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('environment variables', () => {
  it('override the file, and the file overrides the defaults', async () => {
    const file = join(configDir(), 'bridge.config.ts');
    const plain = await loadBridgeConfig(file, { env: {} });
    expect(plain.settings.listen).toMatchObject({ port: 1600, host: '127.0.0.1' });
    expect(plain.settings.http.port).toBe(9000);
    expect(plain.settings.store.url).toBe('sqlite:./data/botbridge.db');

    const env = {
      BOTBRIDGE_PORT: '1700',
      BOTBRIDGE_HOST: '0.0.0.0',
      BOTBRIDGE_HTTP_PORT: '0',
      BOTBRIDGE_HTTP_HOST: '::1',
      BOTBRIDGE_LOG_LEVEL: 'debug',
      BOTBRIDGE_STORE: 'mysql://bb:secret@db.internal:3306/botbridge',
      BOTBRIDGE_ADMIN_TOKEN: 'a-token-of-sixteen-or-more',
    };
    const { settings } = await loadBridgeConfig(file, { env });
    expect(settings.listen).toMatchObject({ port: 1700, host: '0.0.0.0' });
    expect(settings.http).toMatchObject({ port: 0, host: '::1', adminToken: 'a-token-of-sixteen-or-more' });
    expect(settings.log.level).toBe('debug');
    expect(settings.store.url).toBe('mysql://bb:secret@db.internal:3306/botbridge');
    // An empty variable (`docker run -e BOTBRIDGE_PORT=`) counts as unset.
    expect((await loadBridgeConfig(file, { env: { BOTBRIDGE_PORT: '' } })).settings.listen.port).toBe(1600);
  });

  it('apply without a config file (the defaults) and BOTBRIDGE_CONFIG names the file', async () => {
    const dir = configDir();
    const { settings, file } = await loadBridgeConfig(undefined, { env: { BOTBRIDGE_CONFIG: join(dir, 'bridge.config.ts'), BOTBRIDGE_PORT: '1701' } });
    expect(file).toBe(join(dir, 'bridge.config.ts'));
    expect(settings.listen.port).toBe(1701);
    expect(settings.http.port).toBe(9000);
    const missing = await failure(() => loadBridgeConfig(undefined, { env: { BOTBRIDGE_CONFIG: join(dir, 'nope.ts') } }));
    expect(missing.message).toBe(`cannot load config file ${join(dir, 'nope.ts')}: file not found (named by BOTBRIDGE_CONFIG)`);
  });

  it.each([
    ['BOTBRIDGE_PORT', 'eighty', 'invalid environment variable BOTBRIDGE_PORT: "eighty": expected a TCP port, 0-65535'],
    ['BOTBRIDGE_PORT', '70000', 'invalid environment variable BOTBRIDGE_PORT: "70000": expected a TCP port, 0-65535'],
    ['BOTBRIDGE_HTTP_PORT', '-1', 'invalid environment variable BOTBRIDGE_HTTP_PORT: "-1": expected a TCP port, 0-65535'],
    ['BOTBRIDGE_HOST', 'http://x', 'invalid environment variable BOTBRIDGE_HOST: "http://x": expected an IP address or a host name'],
    ['BOTBRIDGE_LOG_LEVEL', 'verbose', 'invalid environment variable BOTBRIDGE_LOG_LEVEL: "verbose": expected one of trace, debug, info, warn, error, fatal, silent'],
    ['BOTBRIDGE_STORE', 'postgres://u:pw@h/db', 'invalid environment variable BOTBRIDGE_STORE: "postgres://u:***@h/db": expected sqlite:PATH or mysql://user:password@host:port/database'],
  ])('%s=%s is refused with the variable named', async (name, value, message) => {
    const error = await failure(() => loadBridgeConfig(join(configDir(), 'bridge.config.ts'), { env: { [name]: value } }));
    expect(error.code).toBe('BRIDGE_ERR_CONFIG_ENV');
    expect(error.message).toBe(message);
  });

  it('a value the schema refuses names its variable too', async () => {
    const error = await failure(() => loadBridgeConfig(join(configDir(), 'bridge.config.ts'), { env: { BOTBRIDGE_ADMIN_TOKEN: 'short' } }));
    expect(error.code).toBe('BRIDGE_ERR_CONFIG_INVALID');
    expect(error.message).toMatch(/^invalid config: http\.adminToken: .*16.* \(set by BOTBRIDGE_ADMIN_TOKEN\)$/);
  });

  it('BOTBRIDGE_CLUSTER_URL and BOTBRIDGE_NODE_ID set cluster.* when this build has a cluster section, else say it has none', async () => {
    const file = join(configDir(), 'bridge.config.ts');
    const env = { BOTBRIDGE_CLUSTER_URL: 'nats://127.0.0.1:4222', BOTBRIDGE_NODE_ID: 'node-a' };
    const { bridgeConfigSchema } = await import('@botbridge/sdk/internal');
    const hasCluster = 'cluster' in (bridgeConfigSchema as unknown as { shape: Record<string, unknown> }).shape;
    if (hasCluster) {
      const { settings } = await loadBridgeConfig(file, { env });
      expect((settings as unknown as { cluster: { url: string; nodeId: string } }).cluster).toMatchObject({ url: 'nats://127.0.0.1:4222', nodeId: 'node-a' });
    } else {
      const error = await failure(() => loadBridgeConfig(file, { env }));
      expect(error.message).toBe('invalid environment variable BOTBRIDGE_CLUSTER_URL: this botbridge has no cluster support (cluster.url is not a config key)');
    }
    const bad = await failure(() => loadBridgeConfig(file, { env: { BOTBRIDGE_CLUSTER_URL: 'http://nats' } }));
    expect(bad.message).toMatch(/BOTBRIDGE_CLUSTER_URL/);
    if (hasCluster) {
      const alone = await failure(() => loadBridgeConfig(file, { env: { BOTBRIDGE_NODE_ID: 'node-a' } }));
      expect(alone.message).toBe('invalid environment variable BOTBRIDGE_NODE_ID: a node id needs a cluster: set BOTBRIDGE_CLUSTER_URL or cluster.url too');
    }
    const badId = await failure(() => loadBridgeConfig(file, { env: { BOTBRIDGE_NODE_ID: 'node a' } }));
    expect(badId.message).toMatch(/BOTBRIDGE_NODE_ID/);
  });

  it('BOTBRIDGE_ADMIN_TOKEN_FILE reads the token from a file, with its mode; both variables set is an error', () => {
    const dir = configDir();
    const file = join(dir, 'token');
    writeFileSync(file, 'file-token-0123456789abcdef\n');
    chmodSync(file, 0o600);
    expect(adminTokenFromEnv({ BOTBRIDGE_ADMIN_TOKEN_FILE: file })).toEqual({ value: 'file-token-0123456789abcdef', source: file, fileMode: 0o600 });
    expect(() => adminTokenFromEnv({ BOTBRIDGE_ADMIN_TOKEN_FILE: file, BOTBRIDGE_ADMIN_TOKEN: 'x'.repeat(20) })).toThrow(
      'invalid environment variable BOTBRIDGE_ADMIN_TOKEN_FILE: BOTBRIDGE_ADMIN_TOKEN is set as well; set only one of them',
    );
    expect(() => adminTokenFromEnv({ BOTBRIDGE_ADMIN_TOKEN_FILE: join(dir, 'missing') })).toThrow(/BOTBRIDGE_ADMIN_TOKEN_FILE: cannot read .*missing: ENOENT/);
  });

  it('are all in the table of docs/configuration.md, with the key each sets', () => {
    const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    for (const setting of ENV_SETTINGS) expect(docs, setting.name).toContain(`| \`${setting.name}\` | \`${setting.doc}\` |`);
    for (const name of ['BOTBRIDGE_CONFIG', 'BOTBRIDGE_ADMIN_TOKEN', 'BOTBRIDGE_ADMIN_TOKEN_FILE']) expect(docs, name).toContain(`| \`${name}\` |`);
  });
});
