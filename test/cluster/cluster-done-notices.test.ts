import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient, type MessageResponse } from '@botbridge/testing';
import { openStore } from '../../core/src/store/open-store.js';
import { createTestDatabase } from '../../core/src/store/test-database.js';
import type { Store } from '../../core/src/store/types.js';
import { dropFleet, MYSQL_URL, mysqlUp, NATS_URL, natsUp, testPrefix, until } from '../../core/test/cluster/cluster-env.js';
import type { LogEntry, RunningServer } from '../process/example-process.js';
import { spawnLogged } from '../process/spawn-logged.js';

/**
 * Done notices (docs/cluster.md, "Failover"): `botbridge start --cluster` processes on one
 * MariaDB database and the real NATS server. Node A commits its journal every 4 s (and, in the
 * first test, its outbox waits 5 s between queued replies), so when it is SIGKILLed right after
 * answering, the done marks of the messages it answered and the delete of the outbox row it
 * delivered are not in SQL: without the notices, whoever takes A's rows over answers them a
 * second time. The messages A admitted but never answered are answered once.
 *
 * 1. Adoption by B: dev-1 moves to B at once (its rows adopted at its handshake: A gives no
 *    answer on NATS); dev-2 comes back only after A's lease expired (adopted with the whole
 *    node); dev-3's queued replies (A's outbox) are adopted with the whole node.
 * 2. A restarted under its id before its lease expired claims its rows itself and asks B which
 *    of them its previous run had announced answered.
 * 3. The admission window: A is killed while its admissions are still in its group-commit buffer
 *    (nothing of them in SQL) and unanswered; B restores them from A's admission notices and
 *    answers each once, in room order, on both adoption paths; what A had answered before its
 *    commit (its done notice) is not restored.
 */
const root = new URL('../../', import.meta.url).pathname;
const TOKEN = 'done-notices-test-admin-token-0123456789';

interface RunningNode {
  readonly server: RunningServer & { killTree(): void };
  readonly admin: string;
}

describe.skipIf(!natsUp || !mysqlUp)('done notices: a SIGKILLed node\'s answered messages are not answered again (real processes, NATS, MariaDB)', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  /** A throwaway database with the phones' devices approved, a fleet prefix, and helpers to run nodes and phones. */
  async function fleet(leaseTtlMs: number) {
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

    const start = async (id: string, extra: Record<string, string>): Promise<RunningNode> => {
      const env = {
        BB_TEST_CLUSTER_URL: NATS_URL, BB_TEST_CLUSTER_PREFIX: prefix, BOTBRIDGE_ADMIN_TOKEN: TOKEN, BOTBRIDGE_STORE: '',
        BB_TEST_LEASE_TTL_MS: String(leaseTtlMs), BB_TEST_LEASE_REFRESH_MS: '1000', ...extra,
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
    const api = async (node: RunningNode, path: string, body?: unknown): Promise<unknown> => {
      const response = await fetch(`${node.admin}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return path === '/metrics' ? response.text() : response.json();
    };
    const phones: FakeBridgeClient[] = [];
    cleanups.push(() => Promise.all(phones.map((p) => p.close())));
    const phone = async (port: number, botName: string, deviceId: string) => {
      const client = await FakeBridgeClient.connect({ port, botName, deviceId });
      phones.push(client);
      await client.handshake;
      return client;
    };
    /** Both joined, and `b` sees `a` alive. */
    const joined = async (a: RunningNode, b: RunningNode) => {
      await until(() => [a, b].every((n) => n.server.logs.some((e) => e.msg === 'cluster: joined')), 5_000, 'both joined');
      const nodes = async () => ((await api(b, '/ready')) as { cluster?: { nodes: number } }).cluster?.nodes;
      for (let i = 0; (await nodes()) !== 2; i += 1) {
        if (i > 100) throw new Error('B does not see A');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    /** Until `count` rows of `node` (every node's: undefined) are 'admitted' in SQL. */
    const pending = async (count: number, node?: string) => {
      for (let i = 0; (await inspector.journalPending(20, node)).length !== count; i += 1) {
        if (i > 200) throw new Error(`rows admitted on ${node ?? 'any node'}: ${(await inspector.journalPending(20, node)).length}, expected ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    /** Each message in its own room (no reply waits behind another room's unanswered message). */
    const send = (p: FakeBridgeClient, base: number) => {
      for (const [i, text] of ['hold-a', 'hold-b', 'never'].entries()) {
        p.analyze({ text, room: `방 ${base + i}`, channelId: String(base + i), logId: String(9_000 + base + i) });
      }
    };
    return { start, api, phone, joined, pending, send, inspector };
  }

  const texts = (replies: readonly MessageResponse[]) => replies.map((r) => r.text).sort();
  /**
   * The kill must not be triggered by the reply's arrival itself: the phone's read is woken by
   * A's socket write, and on a busy machine the scheduler can run the test (and its SIGKILL)
   * before A's next instruction, which is the notice's NATS write. A real kill is not tied to
   * a reply; that window (a preemption right after the write) is documented in docs/cluster.md.
   */
  const decorrelate = () => new Promise((resolve) => setTimeout(resolve, 500));
  /** Anything answered twice would come within this. */
  const quiet = () => new Promise((resolve) => setTimeout(resolve, 1_500));

  it('B skips what A answered or delivered before it died, and replays what it had not answered, each exactly once', async () => {
    const { start, api, phone, joined, pending, send } = await fleet(3_000);
    const [a, b] = await Promise.all([start('A', { BB_TEST_GATE: '1', BB_TEST_COMMIT_MS: '4000', BB_TEST_REPLY_GAP_MS: '5000' }), start('B', {})]);
    await joined(a, b);

    // Two replies for shop3, whose only phone is offline: queued in A's outbox.
    for (const text of ['공지 1', '공지 2']) {
      expect(await api(a, '/api/send', { botName: 'shop3', room: '공지방', channelId: '700', text })).toMatchObject({ status: 'queued' });
    }
    const d1 = await phone(a.server.port, 'shop1', 'dev-1');
    const d2 = await phone(a.server.port, 'shop2', 'dev-2');
    send(d1, 100);
    send(d2, 200);
    // A's first commit (4 s after the first line) writes the six rows as 'admitted'.
    await pending(6, 'A');
    // A answers the held messages now; their done marks wait for its next commit (4 s).
    d1.analyze({ text: 'release', room: '방 999', channelId: '999', logId: '9999' });
    await d1.waitForReplies(2, 3_000);
    await d2.waitForReplies(2, 3_000);
    // dev-3 connects: A's outbox writes the first queued reply, then waits 5 s before the next (and before deleting either).
    const d3 = await phone(a.server.port, 'shop3', 'dev-3');
    await d3.waitForReplies(1, 3_000);
    await decorrelate();

    a.server.child.kill('SIGKILL');
    await a.server.exit;
    // The answered messages are still 'admitted' in SQL: only the notices say otherwise.
    await pending(6, 'A');
    const from = b.server.logs.length;

    const d1b = await phone(b.server.port, 'shop1', 'dev-1');
    const d3b = await phone(b.server.port, 'shop3', 'dev-3');
    await d1b.waitForReplies(1, 5_000);
    const wholeNode = await b.server.waitForLog((e) => e.msg === 'journal: took over a dead node\'s unanswered messages', { from, timeoutMs: 10_000 });
    const d2b = await phone(b.server.port, 'shop2', 'dev-2');
    await d2b.waitForReplies(1, 5_000);
    await d3b.waitForReplies(1, 5_000);
    await quiet();

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
    await pending(0);
  }, 45_000);

  it('B restores and answers, once and in room order, what A admitted but had neither committed nor answered', async () => {
    const { start, api, phone, joined, pending, inspector } = await fleet(3_000);
    // A commits its journal 4 s after its first line: it is killed long before.
    const [a, b] = await Promise.all([start('A', { BB_TEST_GATE: '1', BB_TEST_COMMIT_MS: '4000' }), start('B', {})]);
    await joined(a, b);
    const d1 = await phone(a.server.port, 'shop1', 'dev-1');
    const d2 = await phone(a.server.port, 'shop2', 'dev-2');
    // `quick…` is answered by A at once (done before its row was committed); A holds `hold…` forever.
    const lines = (p: FakeBridgeClient, base: number, rooms: readonly (readonly string[])[]) => {
      let n = 0;
      for (const [r, texts] of rooms.entries()) {
        for (const text of texts) p.analyze({ text, room: `방 ${base + r}`, channelId: String(base + r), logId: String(8_000 + base + n++) });
      }
    };
    lines(d1, 400, [['quick-1', 'hold-1', 'hold-2'], ['hold-3']]);
    lines(d2, 500, [['quick-2', 'hold-4'], ['hold-5']]);
    await d1.waitForReplies(1, 3_000);
    await d2.waitForReplies(1, 3_000);
    await decorrelate();

    a.server.child.kill('SIGKILL');
    await a.server.exit;
    // Nothing of A's reached SQL: its admissions exist only in B's memory of A's notices.
    expect(await inspector.journalKeysSince(new Date(0), 100)).toEqual([]);
    const from = b.server.logs.length;

    // dev-1 at once (the handshake path), dev-2 after A's lease expired (the whole node).
    const d1b = await phone(b.server.port, 'shop1', 'dev-1');
    await d1b.waitForReplies(3, 5_000);
    const wholeNode = await b.server.waitForLog((e) => e.msg === 'journal: took over a dead node\'s unanswered messages', { from, timeoutMs: 10_000 });
    const d2b = await phone(b.server.port, 'shop2', 'dev-2');
    await d2b.waitForReplies(2, 5_000);
    await quiet();

    const inRoom = (replies: readonly MessageResponse[], room: string) => replies.filter((r) => r.room === room).map((r) => r.text);
    expect({
      d1: texts(d1.replies), d2: texts(d2.replies),
      d1b: [inRoom(d1b.replies, '방 400'), inRoom(d1b.replies, '방 401'), d1b.replies.length],
      d2b: [inRoom(d2b.replies, '방 500'), inRoom(d2b.replies, '방 501'), d2b.replies.length],
    }).toEqual({
      d1: ['에코: quick-1'], d2: ['에코: quick-2'],
      d1b: [['에코: hold-1', '에코: hold-2'], ['에코: hold-3'], 3],
      d2b: [['에코: hold-4'], ['에코: hold-5'], 2],
    });
    const device = b.server.logs.find((e: LogEntry) => e.msg === 'journal: took over a dead node\'s unanswered messages of a reconnecting device' && e.deviceId === 'dev-1');
    expect(device).toMatchObject({ deadNodeId: 'A', adopted: 3, alreadyDone: 0, restored: 3 });
    expect(wholeNode).toMatchObject({ deadNodeId: 'A', adopted: 2, replayed: 2, alreadyDone: 0, restored: 2 });
    const metrics = String(await api(b, '/metrics'));
    expect(metrics).toMatch(/botbridge_journal_replay_total\{result="restored",node="B"\} 5\n/);
    expect(metrics).not.toMatch(/result="already_done"/);
    // The restored rows are answered and done, under B; A's answered ones were never written.
    await pending(0);
    const keys = (await inspector.journalKeysSince(new Date(0), 100)).map((k) => k.logId).sort();
    expect(keys).toEqual(['8401', '8402', '8403', '8501', '8502']);
  }, 45_000);

  it('A restarted under its id skips what its previous run answered (B heard its notices) and replays the rest once', async () => {
    // A lease far longer than the restart: B never adopts A's rows; the new run claims them.
    const { start, api, phone, joined, pending, send } = await fleet(20_000);
    const [a, b] = await Promise.all([start('A', { BB_TEST_GATE: '1', BB_TEST_COMMIT_MS: '4000' }), start('B', {})]);
    await joined(a, b);
    const d1 = await phone(a.server.port, 'shop1', 'dev-1');
    send(d1, 300);
    await pending(3, 'A');
    d1.analyze({ text: 'release', room: '방 999', channelId: '999', logId: '9999' });
    await d1.waitForReplies(2, 3_000);
    await decorrelate();
    a.server.child.kill('SIGKILL');
    await a.server.exit;
    await pending(3, 'A');

    // The new run answers at once (no gate) and commits every 5 ms.
    const again = await start('A', {});
    const skipped = await again.server.waitForLog((e) => e.msg === 'journal: the previous run had answered some of its unanswered rows (its done notices); marked done, not replayed', { timeoutMs: 5_000 });
    expect(skipped).toMatchObject({ alreadyDone: 2, replaying: 1 });
    const d1b = await phone(again.server.port, 'shop1', 'dev-1');
    await d1b.waitForReplies(1, 5_000);
    await quiet();
    expect({ d1: texts(d1.replies), d1b: texts(d1b.replies) }).toEqual({ d1: ['에코: hold-a', '에코: hold-b'], d1b: ['에코: never'] });
    expect(b.server.logs.some((e) => typeof e.msg === 'string' && e.msg.startsWith('journal: took over'))).toBe(false);
    expect(String(await api(again, '/metrics'))).toMatch(/botbridge_journal_replay_total\{result="already_done",node="A"\} 2\n/);
    await pending(0);
  }, 45_000);
});
