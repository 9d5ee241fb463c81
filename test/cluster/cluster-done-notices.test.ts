import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient, type MessageResponse } from '@botbridge/testing';
import { openStore } from '../../core/src/store/open-store.js';
import { createTestDatabase } from '../../core/src/store/test-database.js';
import type { Store } from '../../core/src/store/types.js';
import { dropFleet, MYSQL_URL, mysqlUp, NATS_URL, natsUp, testPrefix, until } from '../../core/test/cluster/cluster-env.js';
import type { LogEntry } from '../process/example-process.js';
import { spawnLogged } from '../process/spawn-logged.js';

/**
 * Done notices (docs/cluster.md, "Failover"): two `botbridge start --cluster` processes on one
 * MariaDB database and the real NATS server. Node A commits its journal every 4 s and its
 * outbox waits 5 s between queued replies, so when it is SIGKILLed right after answering, the
 * done marks of the messages it answered and the delete of the outbox row it delivered are
 * not in SQL: without the notices, B (which adopts A's rows) answers them a second time.
 *
 * - dev-1 moves to B at once: its rows are adopted at its handshake (A gives no answer on NATS);
 * - dev-2 comes back only after A's lease expired: its rows are adopted with the whole node;
 * - dev-3's queued replies (A's outbox) are adopted with the whole node;
 * each phone gets every reply exactly once, and the messages A admitted but never answered are
 * answered by B, once.
 */
const root = new URL('../../', import.meta.url).pathname;
const TOKEN = 'done-notices-test-admin-token-0123456789';

describe.skipIf(!natsUp || !mysqlUp)('done notices: a SIGKILLed node\'s answered messages are not answered again by its adopter (real processes, NATS, MariaDB)', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('skips what A answered or delivered before it died, and replays what it had not answered, each exactly once', async () => {
    const db = await createTestDatabase(MYSQL_URL);
    cleanups.push(() => db.drop());
    const prefix = testPrefix();
    cleanups.push(() => dropFleet(prefix));
    const inspector: Store = await openStore(db.url);
    cleanups.push(() => inspector.close());
    for (const [botName, deviceId] of [['shop1', 'dev-1'], ['shop2', 'dev-2'], ['shop3', 'dev-3']] as const) {
      await inspector.registerDevice({ botName, deviceId, ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'approved' });
    }
    await inspector.registerRoom({ botName: 'shop3', roomId: '700', roomName: '공지방', initialStatus: 'approved' });

    const start = async (id: string, extra: Record<string, string>) => {
      const env = {
        BB_TEST_CLUSTER_URL: NATS_URL, BB_TEST_CLUSTER_PREFIX: prefix, BOTBRIDGE_ADMIN_TOKEN: TOKEN, BOTBRIDGE_STORE: '',
        BB_TEST_LEASE_TTL_MS: '3000', BB_TEST_LEASE_REFRESH_MS: '1000', ...extra,
      };
      const args = ['core/bin/botbridge.js', 'start', '--config', 'test/fixtures/done-notices.config.ts', '--store', db.url, '--node-id', id];
      const server = await spawnLogged(process.execPath, args, { cwd: root, env });
      cleanups.push(async () => {
        server.child.kill('SIGTERM');
        const exited = await Promise.race([server.exit.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))]);
        if (!exited) server.killTree();
      });
      const admin = await server.waitForLog((entry) => typeof entry.msg === 'string' && entry.msg.startsWith('admin HTTP server listening'), { timeoutMs: 15_000 });
      return { server, admin: String(admin.url) };
    };
    const api = async (node: { admin: string }, path: string, body?: unknown) => {
      const response = await fetch(`${node.admin}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return path === '/metrics' ? response.text() : response.json() as Promise<unknown>;
    };
    const phones: FakeBridgeClient[] = [];
    cleanups.push(() => Promise.all(phones.map((p) => p.close())));
    const phone = async (port: number, botName: string, deviceId: string) => {
      const client = await FakeBridgeClient.connect({ port, botName, deviceId });
      phones.push(client);
      await client.handshake;
      return client;
    };
    const texts = (replies: readonly MessageResponse[]) => replies.map((r) => r.text).sort();

    const [a, b] = await Promise.all([
      start('A', { BB_TEST_GATE: '1', BB_TEST_COMMIT_MS: '4000', BB_TEST_REPLY_GAP_MS: '5000' }),
      start('B', {}),
    ]);
    await until(() => a.server.logs.some((e) => e.msg === 'cluster: joined') && b.server.logs.some((e) => e.msg === 'cluster: joined'), 5_000, 'both joined');
    const nodes = async () => ((await api(b, '/ready')) as { cluster?: { nodes: number } }).cluster?.nodes;
    for (let i = 0; (await nodes()) !== 2; i += 1) {
      if (i > 100) throw new Error('B does not see A');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Two replies for shop3, whose only phone is offline: queued in A's outbox.
    for (const text of ['공지 1', '공지 2']) {
      expect(await api(a, '/api/send', { botName: 'shop3', room: '공지방', channelId: '700', text })).toMatchObject({ status: 'queued' });
    }
    // Each message in its own room (no reply waits behind another room's unanswered message).
    const d1 = await phone(a.server.port, 'shop1', 'dev-1');
    const d2 = await phone(a.server.port, 'shop2', 'dev-2');
    for (const [p, base] of [[d1, 100], [d2, 200]] as const) {
      for (const [i, text] of ['hold-a', 'hold-b', 'never'].entries()) {
        p.analyze({ text, room: `방 ${base + i}`, channelId: String(base + i), logId: String(9_000 + base + i) });
      }
    }
    // A's first commit (4 s after the first line) writes the six rows as 'admitted'.
    const pendingOnA = async () => (await inspector.journalPending(20, 'A')).length;
    for (let i = 0; (await pendingOnA()) !== 6; i += 1) {
      if (i > 200) throw new Error(`A's rows not committed: ${await pendingOnA()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // A answers the held messages now; their done marks wait for its next commit (4 s).
    d1.analyze({ text: 'release', room: '방 999', channelId: '999', logId: '9999' });
    await d1.waitForReplies(2, 3_000);
    await d2.waitForReplies(2, 3_000);
    // dev-3 connects: A's outbox writes the first queued reply, then waits 5 s before the next (and before deleting either).
    const d3 = await phone(a.server.port, 'shop3', 'dev-3');
    await d3.waitForReplies(1, 3_000);

    a.server.child.kill('SIGKILL');
    await a.server.exit;
    // The answered messages are still 'admitted' in SQL: only the notices say otherwise.
    expect(await pendingOnA()).toBe(6);
    const aFrom = b.server.logs.length;

    const d1b = await phone(b.server.port, 'shop1', 'dev-1');
    const d3b = await phone(b.server.port, 'shop3', 'dev-3');
    await d1b.waitForReplies(1, 5_000);
    const wholeNode = await b.server.waitForLog((e) => e.msg === 'journal: took over a dead node\'s unanswered messages', { from: aFrom, timeoutMs: 10_000 });
    const d2b = await phone(b.server.port, 'shop2', 'dev-2');
    await d2b.waitForReplies(1, 5_000);
    await d3b.waitForReplies(1, 5_000);
    // Anything answered twice would come within this.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    expect({
      d1: texts(d1.replies), d1b: texts(d1b.replies), d2: texts(d2.replies), d2b: texts(d2b.replies), d3: texts(d3.replies), d3b: texts(d3b.replies),
    }).toEqual({
      d1: ['에코: hold-a', '에코: hold-b'], d1b: ['에코: never'],
      d2: ['에코: hold-a', '에코: hold-b'], d2b: ['에코: never'],
      d3: ['공지 1'], d3b: ['공지 2'],
    });
    const device = b.server.logs.find((e: LogEntry) => e.msg === 'journal: took over a dead node\'s unanswered messages of a reconnecting device' && e.deviceId === 'dev-1');
    expect(device).toMatchObject({ deadNodeId: 'A', adopted: 3, alreadyDone: 2 });
    expect(wholeNode).toMatchObject({ deadNodeId: 'A', adopted: 3, replayed: 1, alreadyDone: 2 });
    const metrics = String(await api(b, '/metrics'));
    expect(metrics).toMatch(/botbridge_journal_replay_total\{result="already_done",node="B"\} 4\n/);
    expect(metrics).toMatch(/botbridge_cluster_events_total\{event="outbox_already_delivered",node="B"\} 1\n/);
    // Every row is finished in SQL: the skipped ones marked done by B, the replayed ones answered.
    for (let i = 0; (await inspector.journalPending(20)).length > 0; i += 1) {
      if (i > 100) throw new Error('rows left admitted');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 45_000);
});
