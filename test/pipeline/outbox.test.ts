import { describe, expect, it } from 'vitest';
import { definePlugin, type SendResult } from '@botbridge/sdk';
import { createTestBridge, type FakeBridgeClient, type TestBridge, type TestBridgeOptions } from '@botbridge/testing';
import { openStore } from '@botbridge/core';
import { useCleanups, sharedStoreUrl } from './restart-fixtures.js';

/**
 * The offline outbox over real TCP, with the real store (a SQLite file, or a MariaDB database
 * with BOTBRIDGE_TEST_STORE): replies for a bot whose devices are all offline are `queued`,
 * delivered in room order when a device is back (before newer replies of the room), expired
 * past their TTL, and kept across a restart.
 */

const BOT = 'outbox-bot';
const DEVICE = 'outbox-dev-1';
const CHANNEL = '4242';
const ROOM = '아웃박스방';
const target = { botName: BOT, room: ROOM, channelId: CHANNEL };

const cleanup = useCleanups();

const sharedStore = () => sharedStoreUrl(cleanup, 'outbox');

async function start(options: TestBridgeOptions): Promise<TestBridge> {
  const t = await createTestBridge(options);
  cleanup(() => t.close());
  return t;
}

async function phone(t: TestBridge, deviceId = DEVICE): Promise<FakeBridgeClient> {
  const client = await t.client({ botName: BOT, deviceId });
  cleanup(() => client.close());
  return client;
}

async function eventually(what: string, probe: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function counter(t: TestBridge, name: string): number {
  return (t.bridge.stats().counters as Record<string, number>)[name] ?? 0;
}

/** Records every `reply:sent` as `<text>:<status>`, in publication order. */
function sentLog() {
  const seen: string[] = [];
  const plugin = definePlugin({
    name: 'sent-log',
    setup(ctx) {
      ctx.on('reply:sent', (e) => void seen.push(`${e.text}:${e.status}`));
    },
  });
  return { seen, plugin };
}

describe('offline outbox', () => {
  it('queues the replies produced while the phone is gone and delivers them in order when it is back, before newer replies', async () => {
    let phoneGone!: () => void;
    const gone = new Promise<void>((resolve) => (phoneGone = resolve));
    const results: SendResult[] = [];
    let afterResult: readonly SendResult[] = [];
    const burst = definePlugin({
      name: 'burst',
      setup(ctx) {
        ctx.onMessage(async (mc) => {
          if (mc.message.text !== 'burst') {
            afterResult = await mc.reply(`echo ${mc.message.text}`);
            return;
          }
          results.push(...(await mc.reply('r1')));
          await gone;
          for (const text of ['r2', 'r3', 'r4', 'r5']) results.push(...(await mc.reply(text)));
        });
      },
    });
    const { seen, plugin: log } = sentLog();
    // A reply gap makes delivering the backlog take a while, so the newer reply arrives during it.
    const t = await start({ plugins: [burst, log], config: { pipeline: { replyGapMs: 250 } } });
    const first = await phone(t);
    first.analyze({ text: 'burst', channelId: CHANNEL, room: ROOM });
    expect((await first.nextReply(5_000)).text).toBe('r1');
    await first.close();
    await eventually('the phone is gone', () => t.bridge.clients().length === 0);
    phoneGone();
    await eventually('four replies queued', () => results.length === 5);
    expect(results.map((r) => r.status)).toEqual(['written', 'queued', 'queued', 'queued', 'queued']);
    expect(t.bridge.stats().outbox).toEqual({ queued: 4, rooms: 1 });
    expect(counter(t, 'replies{queued}')).toBe(4);

    await sleep(1_000);
    const back = await phone(t);
    back.analyze({ text: 'after', channelId: CHANNEL, room: ROOM });
    const got = await back.waitForReplies(5, 10_000);
    expect(got.map((r) => r.text)).toEqual(['r2', 'r3', 'r4', 'r5', 'echo after']);
    // The newer reply was held behind the backlog, not written past it.
    expect(afterResult.map((r) => r.status)).toEqual(['queued']);
    for (const text of ['r2', 'r3', 'r4', 'r5']) expect(seen.filter((s) => s.startsWith(`${text}:`))).toEqual([`${text}:queued`, `${text}:written`]);
    await eventually('the outbox is empty', () => t.bridge.stats().outbox.queued === 0);
    expect(counter(t, 'replies{written}')).toBe(1);
    expect(counter(t, 'replies{expired}')).toBe(0);
  });

  it('expires what no device came back for within the TTL, counts it and logs it once per sweep', async () => {
    const t = await start({
      captureLogs: true,
      config: { log: { level: 'warn' }, pipeline: { replyGapMs: 0 }, replies: { outbox: { ttlMs: 300, sweepIntervalMs: 100 } } },
    });
    const first = await phone(t);
    await first.close();
    await eventually('the phone is gone', () => t.bridge.clients().length === 0);
    const sent = [await t.bridge.send(target, 'late 1'), await t.bridge.send(target, 'late 2')];
    expect(sent.map((r) => r.status)).toEqual(['queued', 'queued']);
    await eventually('both expired', () => counter(t, 'replies{expired}') === 2);
    expect(t.bridge.stats().outbox).toEqual({ queued: 0, rooms: 0 });
    await t.waitForLog(/replies expired/, 2_000);
    // One line per sweep that expired something (both may fall in one sweep or in two).
    const lines = t.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('replies expired'));
    expect(lines.every((l) => l.code === 'BRIDGE_ERR_REPLY_EXPIRED')).toBe(true);
    expect(lines.reduce((sum, l) => sum + ((l.byBot as Record<string, number>)[BOT] ?? 0), 0)).toBe(2);
    expect(lines.reduce((sum, l) => sum + (l.expired as number), 0)).toBe(2);

    const back = await phone(t);
    await sleep(400);
    expect(back.replies).toEqual([]);
  });

  it('takes the per-bot TTL from the bot\'s core section', async () => {
    const t = await start({ config: { pipeline: { replyGapMs: 0 }, replies: { outbox: { ttlMs: 600_000, sweepIntervalMs: 100 } } } });
    expect(t.setBotConfig(BOT, { core: { outboxTtlMs: 200 } }).ok).toBe(true);
    const first = await phone(t);
    await first.close();
    await eventually('the phone is gone', () => t.bridge.clients().length === 0);
    expect((await t.bridge.send(target, 'short-lived')).status).toBe('queued');
    await eventually('expired under the bot\'s TTL', () => counter(t, 'replies{expired}') === 1, 5_000);
  });

  it('keeps queued replies across a restart on the same store; the journal marked their message done', async () => {
    const url = await sharedStore();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let queuedResult: readonly SendResult[] = [];
    let running!: () => void;
    const isRunning = new Promise<void>((resolve) => (running = resolve));
    const slow = definePlugin({
      name: 'slow',
      setup(ctx) {
        ctx.onMessage(async (mc) => {
          running();
          await released;
          queuedResult = await mc.reply(`answer ${mc.message.text}`);
        });
      },
    });
    const config = { store: { url }, pipeline: { replyGapMs: 0 } };
    const one = await createTestBridge({ plugins: [slow], config });
    cleanup(() => one.close());
    const first = await phone(one);
    first.analyze({ text: 'm1', channelId: CHANNEL, room: ROOM });
    await isRunning;
    await first.close();
    await eventually('the phone is gone', () => one.bridge.clients().length === 0);
    release();
    await eventually('the reply is queued', () => queuedResult.length === 1);
    expect(queuedResult[0]!.status).toBe('queued');
    expect((await one.bridge.send(target, 'p1')).status).toBe('queued');
    await one.close();

    // The message's reply is durable in the outbox, so the journal holds nothing to replay.
    const store = await openStore(url);
    try {
      expect(await store.journalPending(10)).toEqual([]);
      expect(await store.outboxRooms()).toEqual([{ botName: BOT, roomKey: CHANNEL, queued: 2 }]);
    } finally {
      await store.close();
    }

    const two = await start({ config });
    expect(two.bridge.stats().outbox).toEqual({ queued: 2, rooms: 1 });
    const back = await phone(two);
    expect((await back.waitForReplies(2, 10_000)).map((r) => r.text)).toEqual(['answer m1', 'p1']);
    await eventually('the outbox is empty', () => two.bridge.stats().outbox.queued === 0);
    await sleep(300);
    expect(back.replies).toHaveLength(2);
  });

  it('still rejects device_not_approved when the bot\'s only live device is unapproved, and never queues it', async () => {
    const t = await start({ config: { pipeline: { replyGapMs: 0 } } });
    // An approved device of the bot exists (offline), so the outbox would accept a no_client reply.
    const approved = await phone(t);
    await approved.close();
    await eventually('the approved phone is gone', () => t.bridge.clients().length === 0);
    await t.setDeviceStatus(BOT, 'outbox-dev-2', 'pending');
    const unapproved = await phone(t, 'outbox-dev-2');
    const result = await t.bridge.send(target, 'not for you');
    expect(result).toMatchObject({ status: 'rejected', reason: 'device_not_approved' });
    expect(t.bridge.stats().outbox.queued).toBe(0);
    expect(counter(t, 'replies{queued}')).toBe(0);
    await sleep(150);
    expect(unapproved.replies).toEqual([]);
  });

  it('rejects no_client for a bot with no approved device at all (nothing to wait for)', async () => {
    const t = await start({ config: { pipeline: { replyGapMs: 0 } } });
    const result = await t.bridge.send({ ...target, botName: 'never-seen' }, 'x');
    expect(result).toMatchObject({ status: 'rejected', reason: 'no_client' });
    expect(t.bridge.stats().outbox.queued).toBe(0);
  });
});
