import { describe, expect, it } from 'vitest';
import { createTestBridge, FakeBridgeClient, type TestBridge, type TestBridgeOptions } from '@botbridge/testing';
import { openStore, type Store } from '@botbridge/core';
import { analyzeLine, handshakeLine, signedAnalyze } from '../e2e/helpers.js';
import { useCleanups, sharedStoreUrl, echo, stuck } from './restart-fixtures.js';

/**
 * Issue 11, "every reply in room order" across a restart: a phone that reconnects writes fresh
 * lines right behind its handshake (the same TCP write, like the script after a reconnect, or
 * v3.3 lines queued before the handshake). The next bridge must answer the room's replayed
 * messages first. Real TCP, one store shared by two bridges in turn (SQLite file, or MariaDB
 * with BOTBRIDGE_TEST_STORE).
 */

const BOT = 'order-bot';
const ROOM = { room: '순서방', channelId: '300' };

const cleanup = useCleanups();

async function sharedStore(): Promise<{ url: string; inspector: Store }> {
  const url = await sharedStoreUrl(cleanup, 'replay-order');
  // The test reads the journal through a store of its own (the bridge's parts are private).
  const inspector = await openStore(url);
  cleanup(() => inspector.close());
  return { url, inspector };
}

async function start(url: string, plugins: TestBridgeOptions['plugins'], config: TestBridgeOptions['config'] = {}, autoApprove = true): Promise<TestBridge> {
  const t = await createTestBridge({ plugins, autoApprove, config: { store: { url }, pipeline: { replyGapMs: 0 }, ...config } });
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

/** A first bridge admits each `[deviceId, text]` into the room, in that order, and shuts down before answering any. */
async function leaveUnanswered(url: string, inspector: Store, lines: readonly (readonly [string, string])[]): Promise<void> {
  const first = await start(url, [stuck], { shutdown: { graceMs: 100 }, pipeline: { replyGapMs: 0, concurrency: { perRoom: 1 } } });
  const phones = new Map<string, Awaited<ReturnType<TestBridge['client']>>>();
  for (const [i, [deviceId, text]] of lines.entries()) {
    let phone = phones.get(deviceId);
    if (phone === undefined) phones.set(deviceId, (phone = await first.client({ botName: BOT, deviceId })));
    phone.analyze({ text, logId: String(700_001 + i), ...ROOM });
    // One at a time: the journal's order is the order the test means.
    await waitFor(async () => (await inspector.journalPending(100)).length === i + 1);
  }
  await first.close();
  expect(first.bridge.admin.counters.get('jobs', 'kept_for_replay')).toBe(lines.length);
}

const replayed = ['가', '나', '다'];
const expected = [...replayed, '새1', '새2'].map((text) => `echo: ${text}`);

describe('journal replay keeps room order against fresh lines', () => {
  it('answers the replayed messages before lines written in the same TCP write as the handshake (v3.2)', async () => {
    const { url, inspector } = await sharedStore();
    await leaveUnanswered(url, inspector, replayed.map((text) => ['dev-1', text] as const));

    // A long fallback wait: only the phone's own return may replay its rows.
    const second = await start(url, [echo], { journal: { replayWaitMs: 60_000 } });
    const phone = await FakeBridgeClient.connect({ port: second.port, botName: BOT, deviceId: 'dev-1', handshake: false });
    cleanup(() => phone.close());
    const fresh = ['새1', '새2'].map((text) => analyzeLine(signedAnalyze({ text, ...ROOM }, { botName: BOT, deviceID: 'dev-1' })));
    phone.sendRaw(handshakeLine(BOT, 'dev-1') + fresh.join(''));

    const replies = await phone.waitForReplies(5, 10_000);
    expect(replies.map((r) => r.text)).toEqual(expected);
    await waitFor(async () => (await inspector.journalPending(100)).length === 0);
    expect(second.bridge.admin.counters.get('journal_replay', 'replayed')).toBe(3);
    expect(phone.replies).toHaveLength(5);
  });

  it('answers the replayed messages before v3.3 lines queued ahead of the handshake', async () => {
    const { url, inspector } = await sharedStore();
    await leaveUnanswered(url, inspector, replayed.map((text) => ['dev-1', text] as const));

    const second = await start(url, [echo], { journal: { replayWaitMs: 60_000 } });
    // One write: the queued lines first, the handshake behind them (the script's offline queue).
    const phone = await FakeBridgeClient.connect({
      port: second.port, botName: BOT, deviceId: 'dev-1', protocol: '3.3',
      queued: [{ text: '새1', ...ROOM }, { text: '새2', ...ROOM }],
    });
    cleanup(() => phone.close());
    const replies = await phone.waitForReplies(5, 10_000);
    expect(replies.map((r) => r.text)).toEqual(expected);
    expect(second.bridge.admin.counters.get('journal_replay', 'replayed')).toBe(3);
  });

  it('keeps a not-approved device\'s rows until its approval, then replays them once', async () => {
    const { url, inspector } = await sharedStore();
    await leaveUnanswered(url, inspector, replayed.map((text) => ['dev-1', text] as const));

    const second = await start(url, [echo], { journal: { replayWaitMs: 60_000 } }, false);
    await second.setDeviceStatus(BOT, 'dev-1', 'pending');
    const phone = await second.client({ botName: BOT, deviceId: 'dev-1' });
    await phone.shouldNotReply({ text: '대기중', ...ROOM });
    expect(await inspector.journalPending(100)).toHaveLength(3);

    await second.setDeviceStatus(BOT, 'dev-1', 'approved');
    const replies = await phone.waitForReplies(3, 10_000);
    expect(replies.map((r) => r.text)).toEqual(replayed.map((text) => `echo: ${text}`));
    await waitFor(async () => (await inspector.journalPending(100)).length === 0);
    // Once: a reconnect of the same device replays nothing again.
    await phone.close();
    const again = await second.client({ botName: BOT, deviceId: 'dev-1' });
    await again.shouldReply({ text: '다시', ...ROOM }, ['echo: 다시']);
    expect(second.bridge.admin.counters.get('journal_replay', 'replayed')).toBe(3);
  });

  it('replays through another approved phone of the bot when the device does not come back (replayWaitMs)', async () => {
    const { url, inspector } = await sharedStore();
    await leaveUnanswered(url, inspector, replayed.map((text) => ['dev-1', text] as const));

    const second = await start(url, [echo], { journal: { replayWaitMs: 300 } });
    const other = await second.client({ botName: BOT, deviceId: 'dev-2' });
    const replies = await other.waitForReplies(3, 10_000);
    expect(replies.map((r) => r.text)).toEqual(replayed.map((text) => `echo: ${text}`));
    await waitFor(async () => (await inspector.journalPending(100)).length === 0);
    expect(second.bridge.admin.counters.get('journal_replay', 'replayed')).toBe(3);
  });

  it('replays the rows of a room shared by two absent phones in journal order through the phone that is there', async () => {
    const { url, inspector } = await sharedStore();
    const lines = [['dev-1', '일'], ['dev-3', '이'], ['dev-1', '삼'], ['dev-3', '사']] as const;
    await leaveUnanswered(url, inspector, lines);

    const second = await start(url, [echo], { journal: { replayWaitMs: 300 } });
    const other = await second.client({ botName: BOT, deviceId: 'dev-2' });
    const replies = await other.waitForReplies(4, 10_000);
    expect(replies.map((r) => r.text)).toEqual(lines.map(([, text]) => `echo: ${text}`));
    expect(second.bridge.admin.counters.get('journal_replay', 'replayed')).toBe(4);
  });

  it('after the fallback time with no phone of the bot, the first approved phone to come answers the rows first', async () => {
    const { url, inspector } = await sharedStore();
    await leaveUnanswered(url, inspector, replayed.map((text) => ['dev-1', text] as const));

    const second = await start(url, [echo], { journal: { replayWaitMs: 200 } });
    await waitFor(async () => second.bridge.admin.counters.get('journal_replay', 'not_replayed') === 3);
    const phone = await FakeBridgeClient.connect({ port: second.port, botName: BOT, deviceId: 'dev-2', handshake: false });
    cleanup(() => phone.close());
    const fresh = ['새1', '새2'].map((text) => analyzeLine(signedAnalyze({ text, ...ROOM }, { botName: BOT, deviceID: 'dev-2' })));
    phone.sendRaw(handshakeLine(BOT, 'dev-2') + fresh.join(''));
    const replies = await phone.waitForReplies(5, 10_000);
    expect(replies.map((r) => r.text)).toEqual(expected);
    expect(second.bridge.admin.counters.get('journal_replay', 'replayed')).toBe(3);
  });
});
