import { describe, expect, it } from 'vitest';
import { createTestBridge, type TestBridge, type TestBridgeOptions } from '@botbridge/testing';
import { openStore } from '@botbridge/core';
import { definePlugin } from '@botbridge/sdk';
import { useCleanups, sharedStoreUrl, echo, stuck } from './restart-fixtures.js';

/**
 * Cluster failover on the SQL side, with two bridges as two nodes on one store (a SQLite file,
 * or a MariaDB database with BOTBRIDGE_TEST_STORE), real TCP and fake phones: a survivor adopts
 * a dead node's unanswered messages and answers each exactly once; a phone that moved resends a
 * line the other node admitted, and it is dropped as a duplicate; a node never replays what a
 * live node admitted. (The lease that says "dead" is the cluster core's; here the test says it.)
 */

const cleanup = useCleanups();

async function node(url: string, nodeId: string, plugins: TestBridgeOptions['plugins'], extra: TestBridgeOptions['config'] = {}): Promise<TestBridge> {
  const t = await createTestBridge({ plugins, nodeId, config: { store: { url }, pipeline: { replyGapMs: 0 }, ...extra } });
  cleanup(() => t.close());
  return t;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const device = { botName: 'failover-bot', deviceId: 'dev-1' };

describe('journal failover between nodes', () => {
  it('a survivor adopts a dead node\'s unanswered messages and answers each once; the moved phone\'s resend is a duplicate', async () => {
    const url = await sharedStoreUrl(cleanup, 'failover');
    const inspector = await openStore(url);
    cleanup(() => inspector.close());
    const a = await node(url, 'node-a', [stuck], { shutdown: { graceMs: 100 }, pipeline: { replyGapMs: 0, concurrency: { perRoom: 1 } } });
    const b = await node(url, 'node-b', [echo]);
    const phoneOnA = await a.client(device);
    for (const [i, text] of ['가', '나', '다'].entries()) phoneOnA.analyze({ text, logId: String(700_001 + i), channelId: '300', room: '방' });
    await waitFor(async () => (await inspector.journalPending(10, 'node-a')).length === 3);
    // B started after A admitted them and does not replay another node's rows at start.
    expect(await inspector.journalPending(10, 'node-b')).toEqual([]);
    // Node A goes away without answering (its rows stay 'admitted' under node-a).
    await a.close();
    expect(phoneOnA.replies).toHaveLength(0);

    const phoneOnB = await b.client(device);
    // The phone resends a line A admitted: B learnt the device's keys at the handshake.
    phoneOnB.analyze({ text: '가', logId: '700001', channelId: '300', room: '방' });
    phoneOnB.analyze({ text: '라', logId: '700004', channelId: '301', room: '다른방' });
    expect((await phoneOnB.nextReply(5_000)).text).toBe('echo: 라');
    expect(b.bridge.admin.counters.get('dedup_drops', 'duplicate')).toBe(1);

    expect(await b.bridge.adoptNode('node-a')).toBe(3);
    const replies = await phoneOnB.waitForReplies(3, 10_000);
    expect(replies.map((r) => r.text)).toEqual(['echo: 가', 'echo: 나', 'echo: 다']);
    // A second notice of the same death finds nothing left; done marks follow the replies.
    expect(await b.bridge.adoptNode('node-a')).toBe(0);
    await waitFor(async () => (await inspector.journalPending(10)).length === 0);
    expect(b.bridge.admin.counters.get('journal_replay', 'adopted')).toBe(3);
    expect(phoneOnB.replies).toHaveLength(4);
  });

  it('a live takeover: the new node neither replays nor repeats what the old node is still answering', async () => {
    const url = await sharedStoreUrl(cleanup, 'failover');
    const inspector = await openStore(url);
    cleanup(() => inspector.close());
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = definePlugin({
      name: 'slow',
      setup(ctx) {
        ctx.onMessage(async ({ message }) => {
          await gate;
          return `slow: ${message.text}`;
        });
      },
    });
    const a = await node(url, 'node-a', [slow]);
    const phoneOnA = await a.client(device);
    phoneOnA.analyze({ text: '하나', logId: '710001', channelId: '310', room: '방' });
    phoneOnA.analyze({ text: '둘', logId: '710002', channelId: '310', room: '방' });
    await waitFor(async () => (await inspector.journalPending(10, 'node-a')).length === 2);

    // The phone moves to B while A is alive and still working on both messages.
    const b = await node(url, 'node-b', [echo]);
    const phoneOnB = await b.client(device);
    phoneOnB.analyze({ text: '하나', logId: '710001', channelId: '310', room: '방' });
    phoneOnB.analyze({ text: '셋', logId: '710003', channelId: '311', room: '새방' });
    expect((await phoneOnB.nextReply(5_000)).text).toBe('echo: 셋');
    expect(b.bridge.admin.counters.get('dedup_drops', 'duplicate')).toBe(1);
    // B's own id: nothing to adopt; A's rows are A's while A lives.
    expect(await b.bridge.adoptNode('node-b')).toBe(0);
    expect(await inspector.journalPending(10, 'node-a')).toHaveLength(2);

    release();
    const fromA = await phoneOnA.waitForReplies(2, 5_000);
    expect(fromA.map((r) => r.text)).toEqual(['slow: 하나', 'slow: 둘']);
    await waitFor(async () => (await inspector.journalPending(10)).length === 0);
    expect(b.bridge.admin.counters.get('journal_replay', 'replayed')).toBe(0);
    expect(phoneOnB.replies.map((r) => r.text)).toEqual(['echo: 셋']);
  });

  it('a survivor takes a dead node\'s queued replies and delivers them, in order, where the phone is now', async () => {
    const url = await sharedStoreUrl(cleanup, 'failover');
    const a = await node(url, 'node-a', [echo]);
    const b = await node(url, 'node-b', [echo]);
    const target = { botName: device.botName, room: '큐방', channelId: '320' };
    // The device is known and approved on A, then gone: A keeps the replies in its outbox.
    const once = await a.client(device);
    await once.close();
    const deadline = Date.now() + 5_000;
    while (a.bridge.clients().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const queued = [await a.bridge.send(target, 'q1'), await a.bridge.send(target, 'q2'), await a.bridge.send(target, 'q3')];
    expect(queued.map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);
    await a.close();

    // The phone comes back on B, which never knew A's rows; B adopts them when A is declared dead.
    const phoneOnB = await b.client(device);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(phoneOnB.replies).toHaveLength(0);
    // No journal rows were left (the outbox is adopted alongside): 0 messages, 3 queued replies.
    expect(await b.bridge.adoptNode('node-a')).toBe(0);
    const replies = await phoneOnB.waitForReplies(3, 10_000);
    expect(replies.map((r) => r.text)).toEqual(['q1', 'q2', 'q3']);
    expect(b.bridge.stats().outbox).toEqual({ queued: 0, rooms: 0 });
  });
});
