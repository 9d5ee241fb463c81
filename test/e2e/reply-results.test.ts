import { describe, expect, it } from 'vitest';
import { definePlugin, texts, type BridgeApi, type SendResult } from '@botbridge/sdk';
import { BOT, CHANNEL, DEVICE, counter, handlerPlugin, sleep, useBridges } from './helpers.js';

/**
 * Honest send results over real TCP: what `ctx.reply` and `ctx.bridge.send` resolve to, and
 * that they resolve (no deadlock with the room's reply order).
 */

const { bridge } = useBridges();

/** Drops every reply whose text is `secret`. */
const guard = definePlugin({
  name: 'e2e-guard',
  setup(ctx) {
    ctx.beforeReply((out) => (out.reply.kind === 'text' && out.reply.text === 'secret' ? null : out));
  },
});

/** Rewrites every reply into a new object, so the guard sees a copy of what the core started with. */
const copier = definePlugin({
  name: 'e2e-copier',
  setup(ctx) {
    ctx.beforeReply((out) => ({ ...out }));
  },
});

/** Keeps the plugin's BridgeApi for the test (ctx.bridge, as a plugin sees it). */
function bridgeApiHolder() {
  const holder: { api?: BridgeApi } = {};
  const plugin = definePlugin({ name: 'e2e-api', setup: (ctx) => void (holder.api = ctx.bridge) });
  return { holder, plugin };
}

describe('ctx.reply results', () => {
  it('resolves one result per reply, in order: written, dropped with the plugin (after a rewrite), rejected too_long', async () => {
    let results: readonly SendResult[] | undefined;
    const replier = handlerPlugin('e2e-replier', async (ctx) => {
      results = await ctx.reply(texts(['ok', 'secret', 'x'.repeat(41)]));
      return { kind: 'none' };
    });
    const t = await bridge({ plugins: [copier, guard, replier], config: { replies: { maxTextLength: 40 }, pipeline: { replyGapMs: 0 } } });
    const phone = await t.client();
    await phone.shouldReply('go', 'ok');
    expect(results).toEqual([
      { status: 'written', traceId: expect.any(String), deviceId: DEVICE },
      { status: 'dropped', traceId: expect.any(String), plugin: 'e2e-guard' },
      { status: 'rejected', traceId: expect.any(String), reason: 'too_long' },
    ]);
    expect(new Set(results!.map((r) => r.traceId)).size).toBe(1);
    expect(counter(t, 'replies', 'written')).toBe(1);
    expect(counter(t, 'replies', 'dropped')).toBe(1);
    expect(counter(t, 'replies', 'rejected')).toBe(1);
    expect(counter(t, 'replies_rejected', 'too_long')).toBe(1);
  });

  it('does not deadlock with the room order: a reply behind a running message resolves after replyHoldMs', async () => {
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    let second: readonly SendResult[] | undefined;
    const plugin = handlerPlugin('e2e-hold', async (ctx) => {
      if (ctx.message.text === 'first') {
        await firstMayEnd;
        return 'one';
      }
      // Behind 'first', which runs until this resolves: only the hold expiry can release it.
      second = await ctx.reply('two');
      releaseFirst();
      return undefined;
    });
    const t = await bridge({ plugins: [plugin], config: { pipeline: { replyHoldMs: 200, replyGapMs: 0, concurrency: { perRoom: 2 } } } });
    const phone = await t.client();
    phone.analyze('first');
    phone.analyze('second');
    expect((await phone.waitForReplies(2)).map((r) => r.text)).toEqual(['two', 'one']);
    expect(second).toEqual([{ status: 'written', traceId: expect.any(String), deviceId: DEVICE }]);
  });
});

describe('ctx.bridge.send results', () => {
  it('is written to a live approved device, and rejected no_client when the bot has none', async () => {
    const { holder, plugin } = bridgeApiHolder();
    const t = await bridge({ plugins: [guard, plugin] });
    const phone = await t.client();
    const target = { botName: BOT, room: '공지방', channelId: CHANNEL };
    await expect(holder.api!.send(target, '안내')).resolves.toEqual({ status: 'written', traceId: expect.any(String), deviceId: DEVICE });
    expect((await phone.nextReply()).text).toBe('안내');
    await expect(holder.api!.send(target, 'secret')).resolves.toMatchObject({ status: 'dropped', plugin: 'e2e-guard' });
    await expect(holder.api!.send({ ...target, botName: 'nobody' }, 'x')).resolves.toMatchObject({ status: 'rejected', reason: 'no_client' });
    expect(counter(t, 'replies_rejected', 'no_client')).toBe(1);
    expect(counter(t, 'replies', 'written')).toBe(1);
  });

  it('is rejected device_not_approved when the bot\'s only live device is not approved, and nothing reaches it', async () => {
    const { holder, plugin } = bridgeApiHolder();
    const t = await bridge({ plugins: [plugin], autoApprove: false });
    const phone = await t.client();
    const result = await holder.api!.send({ botName: BOT, room: '공지방', channelId: CHANNEL, deviceId: DEVICE }, '안내');
    expect(result).toMatchObject({ status: 'rejected', reason: 'device_not_approved' });
    expect(counter(t, 'replies_rejected', 'device_not_approved')).toBe(1);
    await sleep(150);
    expect(phone.replies).toEqual([]);
    expect(phone.closeReason).toBeNull();
  });

  it('takes its place in the room order: after replies of earlier messages, before later ones', async () => {
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const plugin = handlerPlugin('e2e-order', async ({ message }) => {
      if (message.text !== 'first') return message.text;
      firstStarted();
      await firstMayEnd;
      return 'first';
    });
    // Without the send governor the send keeps its place exactly; with it, see the next test.
    const t = await bridge({ plugins: [plugin], config: { pipeline: { replyHoldMs: 10_000, replyGapMs: 0, concurrency: { perRoom: 3 } }, replies: { governor: { enabled: false } } } });
    const phone = await t.client();
    phone.analyze('first');
    await started;
    let sendSettled = false;
    const sent = t.bridge.send({ botName: BOT, room: '테스트방', channelId: CHANNEL }, 'proactive').finally(() => (sendSettled = true));
    phone.analyze('later');
    // 'later' is answered in its handler; its reply and the send wait behind 'first'.
    await sleep(150);
    expect(phone.replies).toEqual([]);
    expect(sendSettled).toBe(false);
    releaseFirst();
    expect((await phone.waitForReplies(3)).map((r) => r.text)).toEqual(['first', 'proactive', 'later']);
    await expect(sent).resolves.toMatchObject({ status: 'written', deviceId: DEVICE });
  });

  it('with the send governor: after replies of earlier messages, and a later message\'s reply goes first while it waits for its room gap', async () => {
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const plugin = handlerPlugin('e2e-order', async ({ message }) => {
      if (message.text !== 'first') return message.text;
      firstStarted();
      await firstMayEnd;
      return 'first';
    });
    const t = await bridge({
      plugins: [plugin],
      config: { pipeline: { replyHoldMs: 10_000, replyGapMs: 0, concurrency: { perRoom: 3 } }, replies: { governor: { roomGapMs: 300, jitterMs: 0 } } },
    });
    const phone = await t.client();
    phone.analyze('first');
    await started;
    const sent = t.bridge.send({ botName: BOT, room: '테스트방', channelId: CHANNEL }, 'proactive');
    phone.analyze('later');
    await sleep(150);
    expect(phone.replies).toEqual([]);
    releaseFirst();
    expect((await phone.waitForReplies(3)).map((r) => r.text)).toEqual(['first', 'later', 'proactive']);
    await expect(sent).resolves.toMatchObject({ status: 'written', deviceId: DEVICE });
  });
});
