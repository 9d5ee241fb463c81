import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';
import { createTestDatabase, tcpReachable as reachable } from '@botbridge/core/test-support';
import { MYSQL_SERVER, NATS_URL } from '../../bench/fault/scenarios/cluster-failover.js';
import { spawnLogged } from '../process/spawn-logged.js';
import type { LogEntry } from '../process/example-process.js';

/**
 * `botbridge start --workers 2`: one service, two cluster nodes sharing the phones' port
 * (node:cluster), ids `<base>-w<i>`; a worker killed by SIGKILL is started again under its id;
 * SIGTERM to the supervisor stops every worker and exits 0. Real processes, NATS and MariaDB.
 */
const up = (await reachable(NATS_URL, 4222)) && (await reachable(MYSQL_SERVER, 3306));
if (!up) console.warn(`workers test SKIPPED: needs NATS at ${NATS_URL} and MariaDB at ${MYSQL_SERVER} (.ci/run starts both)`);

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'core/bin/botbridge.js');
let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  cleanups = [];
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!up)('botbridge start --workers', () => {
  it('runs two nodes on one port, restarts a killed worker under its id, and stops them all on SIGTERM', async () => {
    const database = await createTestDatabase(MYSQL_SERVER);
    cleanups.push(() => database.drop());
    const prefix = `bbw_${randomUUID().slice(0, 8)}`;
    const server = await spawnLogged(process.execPath, [
      bin, 'start', '--config', join(root, 'bench/fault/fault.config.ts'), '--store', database.url, '--port', '0', '--no-http',
      '--cluster', NATS_URL, '--node-id', 'wk', '--workers', '2',
    ], { cwd: root, env: { FAULT_CLUSTER_URL: NATS_URL, FAULT_CLUSTER_PREFIX: prefix, FAULT_LEASE_TTL_MS: '1500', FAULT_LEASE_REFRESH_MS: '500', FAULT_DELAY_MS: '0' } });
    cleanups.push(async () => server.killTree());
    const listening = (node: string, from = 0) => server.waitForLog((e) => e.msg === 'botbridge listening' && e.node === node, { timeoutMs: 20_000, from });
    const [w0, w1] = await Promise.all([listening('wk-w0'), listening('wk-w1')]);
    expect(w0.port).toBe(w1.port);
    const workerPids = server.logs.filter((e) => e.msg === 'worker started').map((e) => e.pid as number);
    expect(workerPids).toHaveLength(2);

    // Phones on the one shared port land on both workers (round-robin) and are answered.
    const phones = await Promise.all(Array.from({ length: 4 }, (_, i) => FakeBridgeClient.connect({ port: w0.port as number, botName: 'fault-bot', deviceId: `wk-dev-${i}` })));
    cleanups.push(() => Promise.all(phones.map((p) => p.close())));
    await Promise.all(phones.map((p) => p.handshake));
    for (const [i, p] of phones.entries()) p.analyze({ text: 'x', logId: String(5_000_000 + i), channelId: String(70 + i), room: `방${i}` });
    const replies = await Promise.all(phones.map((p) => p.nextReply(10_000)));
    expect(replies.map((r) => r.text)).toEqual([0, 1, 2, 3].map((i) => `echo ${5_000_000 + i}`));
    // Log lines are written in batches (0.1 s): wait for each worker's line rather than race it.
    const served = await Promise.all(['wk-w0', 'wk-w1'].map((node) => server.waitForLog((e: LogEntry) => e.msg === 'client connected' && e.node === node, { timeoutMs: 5_000 })));
    expect(served.map((e) => e.node)).toEqual(['wk-w0', 'wk-w1']);

    // A worker that dies is started again under the same node id (once its old lease expired).
    const mark = server.logs.length;
    process.kill(workerPids[0]!, 'SIGKILL');
    await server.waitForLog((e) => e.msg === 'worker died; starting it again' && e.nodeId === 'wk-w0', { from: mark, timeoutMs: 5_000 });
    await listening('wk-w0', mark);

    const restartedPids = server.logs.filter((e) => e.msg === 'worker started').map((e) => e.pid as number);
    process.kill(server.child.pid!, 'SIGTERM');
    expect(await server.exit).toBe(0);
    for (const pid of restartedPids) expect(alive(pid)).toBe(false);
    expect(server.logs.some((e) => e.msg === 'every worker stopped' && e.failed === false)).toBe(true);
  }, 29_000);

  it('refuses --workers without a cluster URL', async () => {
    const server = spawnLogged(process.execPath, [bin, 'start', '--defaults', '--port', '0', '--no-http', '--workers', '2'], { cwd: root });
    await expect(server).rejects.toThrow(/cluster\.url|--cluster/);
  });
});
