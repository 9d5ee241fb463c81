import { describe, expect, it } from 'vitest';
import { mediaBase64, mediaUrl, texts } from '@botbridge/sdk';
import { CHANNEL, echoPlugin, handlerPlugin, sleep, useBridges } from './helpers.js';

/** PROTOCOL.md §6 (messageResponse) and §7 (replies of a room keep message order). */

const { bridge } = useBridges();

describe('messageResponse', () => {
  it('has the §6 shape and key order, without media_wait_time for text', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.analyze('안녕');
    const packet = await phone.nextPacket('messageResponse');
    expect(Object.keys(packet)).toEqual(['event', 'data']);
    expect(Object.keys(packet.data as object)).toEqual(['room', 'channel_id', 'bot_name', 'text']);
    expect(packet).toEqual({ event: 'messageResponse', data: { room: '테스트방', channel_id: CHANNEL, bot_name: 'LOA.i', text: '에코: 안녕' } });
  });

  it('answers to the room of the message, with its channel_id kept as a string', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    await phone.shouldReply({ text: 'x', room: '다른 방', channelId: '9223372036854775807' }, '에코: x');
    expect(phone.replies.at(-1)).toEqual({ room: '다른 방', channel_id: '9223372036854775807', bot_name: 'LOA.i', text: '에코: x' });
  });

  it('sends media with media_wait_time only when it is above 0, clamped to the configured maximum', async () => {
    const media = handlerPlugin('e2e-media', ({ message }) => {
      if (message.text === 'wait') return mediaUrl(['https://example.com/a.png', 'https://example.com/b.png'], { waitMs: 3_000 });
      if (message.text === 'long') return mediaUrl('https://example.com/c.png', { waitMs: 999_999 });
      if (message.text === 'zero') return mediaBase64('iVBORw0KGgo=', { waitMs: 0 });
      return undefined;
    });
    const t = await bridge({ plugins: [media], config: { replies: { maxMediaWaitMs: 10_000 } } });
    const phone = await t.client();
    phone.analyze('wait');
    phone.analyze('long');
    phone.analyze('zero');
    const [wait, long, zero] = await phone.waitForReplies(3);
    expect(wait).toMatchObject({ text: 'MEDIA_URL:https://example.com/a.png|||https://example.com/b.png', media_wait_time: 3_000 });
    expect(Object.keys(wait!)).toEqual(['room', 'channel_id', 'bot_name', 'text', 'media_wait_time']);
    expect(long).toMatchObject({ text: 'MEDIA_URL:https://example.com/c.png', media_wait_time: 10_000 });
    expect(zero).toEqual({ room: '테스트방', channel_id: CHANNEL, bot_name: 'LOA.i', text: 'IMAGE_BASE64:iVBORw0KGgo=' });
  });

  it('sends several replies of one message as separate packets in order', async () => {
    const several = handlerPlugin('e2e-several', () => texts(['first', 'second', 'third']));
    const t = await bridge({ plugins: [several], config: { pipeline: { replyGapMs: 0 } } });
    const phone = await t.client();
    await phone.shouldReply('go', ['first', 'second', 'third']);
  });

  it('keeps ctx.reply() calls and the returned replies in order', async () => {
    const mixed = handlerPlugin('e2e-mixed', async (ctx) => {
      await ctx.reply('one');
      await ctx.reply(['two', 'three'].map((text) => ({ kind: 'text' as const, text })));
      return 'four';
    });
    const t = await bridge({ plugins: [mixed], config: { pipeline: { replyGapMs: 0 } } });
    const phone = await t.client();
    await phone.shouldReply('go', ['one', 'two', 'three', 'four']);
  });
});

describe('reply order per room', () => {
  /** Each message waits the milliseconds its text names, so later messages finish first. */
  const delayed = handlerPlugin('e2e-delayed', async ({ message }) => {
    await sleep(Number(message.text));
    return `done ${message.text}`;
  });

  it('replies of a room come in message order even when handlers finish out of order', async () => {
    const t = await bridge({ plugins: [delayed], config: { pipeline: { replyGapMs: 0 } } });
    const phone = await t.client();
    phone.analyze('300');
    phone.analyze('150');
    phone.analyze('0');
    expect((await phone.waitForReplies(3)).map((r) => r.text)).toEqual(['done 300', 'done 150', 'done 0']);
  });

  it('another room is not held behind a slow one', async () => {
    const t = await bridge({ plugins: [delayed], config: { pipeline: { replyGapMs: 0 } } });
    const phone = await t.client();
    phone.analyze({ text: '400', room: '느린방', channelId: '1' });
    phone.analyze({ text: '0', room: '빠른방', channelId: '2' });
    const [first, second] = await phone.waitForReplies(2);
    expect(first).toMatchObject({ room: '빠른방', text: 'done 0' });
    expect(second).toMatchObject({ room: '느린방', text: 'done 400' });
  });
});
