import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../core/src/store/test-database.js';
import { dropFleet, MYSQL_URL, mysqlUp, NATS_URL, natsUp, testPrefix } from '../../core/test/cluster/cluster-env.js';
import { spawnLogged } from './spawn-logged.js';

/**
 * Issue 14's failover with the real bridge script, unmodified, under desktop Rhino (the bridge
 * harness): the v3.3.3 script's SERVER_LIST names two `botbridge start --cluster` nodes; node A,
 * which holds the phone, is SIGKILLed; the script walks its list to node B after its reconnect
 * delay and the next message is answered there. Skipped, with the reason, where the harness,
 * rhino, a clone of the scripts' repository, NATS or MariaDB is missing (real-scripts.test.ts).
 */
const root = new URL('../../', import.meta.url).pathname;
const harnessDir = process.env.BRIDGE_HARNESS_DIR ?? resolve(root, '../shared/bridge-harness');
const gitDir = process.env.BRIDGE_GIT_DIR ?? '/work/.mirror/wangtae+domaeka/repo';
const SCRIPT = 'HEAD:client/messengerbotR/bridge.js';

function unavailable(): string | null {
  if (!natsUp || !mysqlUp) return 'NATS or MariaDB is not reachable';
  if (!existsSync(join(harnessDir, 'run.mjs'))) return `no bridge harness at ${harnessDir} (set BRIDGE_HARNESS_DIR)`;
  if (spawnSync('rhino', ['-e', 'quit()'], { timeout: 20_000 }).status !== 0) return 'rhino is not installed (apt-get install rhino)';
  if (spawnSync('git', ['--git-dir', gitDir, 'cat-file', '-e', SCRIPT], { timeout: 10_000 }).status !== 0) {
    return `script ${SCRIPT} not found in ${gitDir} (set BRIDGE_GIT_DIR to a clone of wangtae/domaeka)`;
  }
  return null;
}

const reason = unavailable();
if (reason !== null) console.warn(`real bridge script cluster test skipped: ${reason}`);

/** The parts of the harness's BridgeHarness (harness.mjs, plain JavaScript) this test uses. */
interface Harness {
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  message(fields: { text: string }): Promise<unknown>;
  mark(): { events: number; wire: number };
  waitForSend(pred: (e: { text: string }) => boolean, timeoutMs?: number, options?: { since?: { events: number } }): Promise<{ text: string }>;
  waitForLog(pred: RegExp, timeoutMs?: number, options?: { since?: { events: number } }): Promise<unknown>;
}

describe.skipIf(reason !== null)('the real v3.3.3 script walking its server list across a cluster', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('is answered by node B after node A, which held it, is SIGKILLed', async () => {
    const db = await createTestDatabase(MYSQL_URL);
    cleanups.push(() => db.drop());
    const prefix = testPrefix();
    cleanups.push(() => dropFleet(prefix));
    const env = { BB_TEST_CLUSTER_URL: NATS_URL, BB_TEST_CLUSTER_PREFIX: prefix, BOTBRIDGE_STORE: '' };
    const args = (node: string) => ['core/bin/botbridge.js', 'start', '--config', 'test/fixtures/cluster.config.ts', '--store', db.url, '--cluster', NATS_URL, '--node-id', node, '--auto-approve', '--no-http'];
    const start = async (id: string) => {
      const server = await spawnLogged(process.execPath, args(id), { cwd: root, env });
      cleanups.push(() => server.killTree());
      await server.waitForLog((entry) => entry.msg === 'cluster: joined', { timeoutMs: 15_000 });
      return server;
    };
    // B first: A's death is then seen by a node that was there before it.
    const b = await start('B');
    const a = await start('A');

    const { BridgeHarness } = (await import(pathToFileURL(join(harnessDir, 'harness.mjs')).href)) as {
      BridgeHarness: new (options: Record<string, unknown>) => Harness;
    };
    const serverList = [
      { host: '127.0.0.1', port: a.port, priority: 1, name: 'node A' },
      { host: '127.0.0.1', port: b.port, priority: 2, name: 'node B' },
    ];
    const harness = new BridgeHarness({ port: a.port, proxy: false, device: 'real-cluster', script: SCRIPT, gitDir, configJson: { SERVER_LIST: serverList } });
    cleanups.push(async () => void (await harness.stop().catch(() => undefined)));
    await harness.start();
    await a.waitForLog((entry) => entry.msg === 'client connected' && entry.deviceId === 'real-cluster', { timeoutMs: 30_000 });
    await harness.message({ text: '# echo on A' });
    await harness.waitForSend((e) => e.text === '에코: # echo on A', 15_000);

    const mark = harness.mark();
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    // The script's first reconnect comes after its 4 s delay and walks to the next server.
    const connected = await b.waitForLog((entry) => entry.msg === 'client connected' && entry.deviceId === 'real-cluster', { timeoutMs: 30_000 });
    expect(connected.node).toBe('B');
    const outage = Date.now() - killedAt;
    await harness.message({ text: '# echo on B' });
    await harness.waitForSend((e) => e.text === '에코: # echo on B', 15_000, { since: mark });
    // Reconnect delay (4 s) + 2 s, with room for a loaded machine's process start-up of Rhino.
    expect(outage).toBeLessThan(15_000);
  }, 120_000);
});
