import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';
import { openStore } from '../../core/src/store/open-store.js';
import { createTestDatabase } from '../../core/src/store/test-database.js';
import { dropFleet, MYSQL_URL, mysqlUp, NATS_URL, natsUp, testPrefix } from '../../core/test/cluster/cluster-env.js';
import { spawnLogged } from './spawn-logged.js';

/**
 * Issue 14's process test: three `botbridge start --cluster …` processes on loopback ports, one
 * throwaway MariaDB database, the real NATS server; real-protocol phones spread over them.
 * - a device approved through node C's CLI gets replies on node A within 1 s (approval polls
 *   are a minute apart in the fixture: only the NATS event can do it);
 * - node B's admin API sends to a room whose phone is on node A and reports `written`;
 * - `/api/clients` on any node lists every phone with its node.
 */
const root = new URL('../../', import.meta.url).pathname;
const TOKEN = 'cluster-test-admin-token-0123456789';
const CHANNEL = '18445682959392711';
const run = promisify(execFile);

describe.skipIf(!natsUp || !mysqlUp)('three botbridge processes in cluster mode', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('approval through node C\'s CLI reaches node A within 1 s, node B sends through node A, every node lists every phone', async () => {
    const db = await createTestDatabase(MYSQL_URL);
    cleanups.push(() => db.drop());
    const prefix = testPrefix();
    cleanups.push(() => dropFleet(prefix));
    const env = { BB_TEST_CLUSTER_URL: NATS_URL, BB_TEST_CLUSTER_PREFIX: prefix, BOTBRIDGE_ADMIN_TOKEN: TOKEN, BOTBRIDGE_STORE: '' };

    // Devices and the room approved beforehand, as an operator would; dev-new stays pending.
    const store = await openStore(db.url);
    try {
      for (const deviceId of ['dev-a', 'dev-b', 'dev-c']) {
        await store.registerDevice({ botName: 'shop', deviceId, ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'approved' });
      }
      await store.registerDevice({ botName: 'solo', deviceId: 'dev-solo', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'approved' });
      for (const botName of ['shop', 'solo']) await store.registerRoom({ botName, roomId: CHANNEL, roomName: '테스트방', initialStatus: 'approved' });
    } finally {
      await store.close();
    }

    const args = (node: string) => ['core/bin/botbridge.js', 'start', '--config', 'test/fixtures/cluster.config.ts', '--store', db.url, '--cluster', NATS_URL, '--node-id', node];
    const nodes = await Promise.all(['A', 'B', 'C'].map(async (id) => {
      const server = await spawnLogged(process.execPath, args(id), { cwd: root, env });
      cleanups.push(async () => {
        server.child.kill('SIGTERM');
        const exited = await Promise.race([server.exit.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))]);
        if (!exited) server.killTree();
      });
      const admin = await server.waitForLog((entry) => typeof entry.msg === 'string' && entry.msg.startsWith('admin HTTP server listening'), { timeoutMs: 15_000 });
      return { id, server, admin: String(admin.url) };
    }));
    const [a, b, c] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
    for (const node of nodes) {
      const joined = await node.server.waitForLog((entry) => entry.msg === 'cluster: joined');
      expect(joined.node).toBe(node.id);
    }

    const phones: FakeBridgeClient[] = [];
    cleanups.push(() => Promise.all(phones.map((p) => p.close())).then(() => undefined));
    const phone = async (port: number, botName: string, deviceId: string) => {
      const client = await FakeBridgeClient.connect({ port, botName, deviceId });
      phones.push(client);
      await client.handshake;
      return client;
    };
    const onA = await phone(a.server.port, 'shop', 'dev-a');
    await phone(b.server.port, 'shop', 'dev-b');
    await phone(c.server.port, 'shop', 'dev-c');
    const solo = await phone(a.server.port, 'solo', 'dev-solo');
    const pending = await phone(a.server.port, 'shop', 'dev-new');
    await onA.shouldReply({ text: 'ping', room: '테스트방', channelId: CHANNEL }, '에코: ping');

    const api = async (node: typeof a, path: string, body?: unknown) => {
      const response = await fetch(`${node.admin}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status).toBe(200);
      return response.json() as Promise<unknown>;
    };

    // Every node lists every phone, each with the node holding it.
    const expected = ['A:dev-a', 'A:dev-new', 'A:dev-solo', 'B:dev-b', 'C:dev-c'];
    for (const node of nodes) {
      const clients = await api(node, '/api/clients') as { node: string; deviceId: string }[];
      expect(clients.map((client) => `${client.node}:${client.deviceId}`).sort()).toEqual(expected);
    }

    // Node B's admin API sends to the room of bot `solo`, whose only phone is on node A.
    const sent = await api(b, '/api/send', { botName: 'solo', room: '테스트방', channelId: CHANNEL, text: '공지' }) as { status: string; deviceId?: string };
    expect(sent).toMatchObject({ status: 'written', deviceId: 'dev-solo' });
    expect((await solo.nextReply()).text).toBe('공지');

    // Pending on node A: unanswered. Approved through node C's CLI: answered within 1 s.
    await pending.shouldNotReply({ text: 'before', room: '테스트방', channelId: CHANNEL }, { quietMs: 300 });
    await run(process.execPath, ['core/bin/botbridge.js', 'devices', 'approve', 'shop', 'dev-new', '--config', 'test/fixtures/cluster.config.ts', '--store', db.url], { cwd: root, env: { ...process.env, ...env } });
    const approvedAt = Date.now();
    pending.analyze({ text: 'after', room: '테스트방', channelId: CHANNEL });
    const reply = await pending.nextReply(1_000);
    expect(reply.text).toBe('에코: after');
    expect(Date.now() - approvedAt).toBeLessThan(1_000);
    // Log lines reach stdout up to 0.1 s later (chunked): waited for, not looked up.
    const approvalLog = await a.server.waitForLog((entry) => entry.msg === 'device approval changed' && entry.deviceId === 'dev-new', { timeoutMs: 3_000 });
    expect(approvalLog.node).toBe('A');

    // /ready names the node and NATS; /metrics carries the node label.
    const ready = await (await fetch(`${a.admin}/ready`)).json() as { cluster?: { node: string; nats: string; state: string } };
    expect(ready.cluster).toMatchObject({ node: 'A', nats: 'connected', state: 'ok' });
    const metrics = await (await fetch(`${b.admin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toMatch(/botbridge_cluster_events_total\{event="hop_written",node="B"\} 1/);
    expect(metrics).toMatch(/botbridge_cluster_nats_connected\{node="B"\} 1/);
    expect(metrics).toMatch(/botbridge_cluster_nodes\{node="B"\} 3/);

    // A graceful stop closes NATS as part of the shutdown: logged as that, not as a NATS loss.
    const stopFrom = c.server.logs.length;
    c.server.child.kill('SIGTERM');
    expect(await c.server.exit).toBe(0);
    const afterStop = c.server.logs.slice(stopFrom).map((entry) => entry.msg);
    expect(afterStop).toContain('cluster: NATS connection closed (shutdown)');
    expect(afterStop.filter((msg) => typeof msg === 'string' && msg.startsWith('cluster: NATS lost'))).toEqual([]);
  }, 28_000);
});
