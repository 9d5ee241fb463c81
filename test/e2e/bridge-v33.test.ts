import { describe, expect, it } from 'vitest';
import { mediaBase64, mediaUrl, texts, type ChatMessage, type SendResult } from '@botbridge/sdk';
import { buildAnalyzeData, buildV33Handshake, buildV33MessageLine, encodeLine } from '@botbridge/testing/wire';
import { BOT, CHANNEL, DEVICE, authBlockFor, counter, echoPlugin, eventually, expectCounter, fastSession, handlerPlugin, useBridges } from './helpers.js';

/**
 * Bridge scripts v3.3.x (docs/protocol.md, "JSON + raw") on the same server as v3.2.x phones:
 * the codec is chosen per connection from its first line, and everything after it is the same
 * pipeline. Every phone here is the fake script over real TCP.
 */

const { bridge, connect } = useBridges();

const v33 = { protocol: '3.3' } as const;
const OTHER_DEVICE = 'b1b2c3d4e5f60718';

let logIds = 9_000_000_000_000_000_000n;

/** A signed v3.3 message line built by hand (for lines the fake phone would not send). */
function messageLine(text: string, deviceID = DEVICE, payload?: string): string {
  logIds += 1n;
  const now = new Date();
  const data = buildAnalyzeData({ text }, { botName: BOT, clientType: 'MessengerBotR', logId: String(logIds), now });
  const line = buildV33MessageLine(data, authBlockFor(BOT, deviceID), now, 'rhino');
  if (payload === undefined) return line;
  return `${line.slice(0, line.lastIndexOf('}') + 1)}${payload}\n`;
}

function handshakeV33(deviceID = DEVICE): string {
  const fields = { clientType: 'MessengerBotR', botName: BOT, version: '3.3.3', deviceID, deviceIP: '192.168.0.23', deviceInfo: 'samsung SM-G991N (Android 13, API 33)' };
  return encodeLine(buildV33Handshake(fields, new Date()));
}

describe('bridge v3.3: text', () => {
  it('answers a v3.3 phone in its own format: base64 payload after the JSON, positions [0, len]', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client(v33);
    expect(await phone.handshake).toMatchObject({ success: true, approved: true, timezone: 'Asia/Seoul', message_positions: [0, 0] });
    await phone.shouldReply('hello', '에코: hello');
    const reply = phone.replies.at(-1)!;
    expect(reply).toMatchObject({ room: '테스트방', channel_id: CHANNEL, bot_name: BOT, message_type: 'text', content_encoding: 'base64' });
    expect(reply.payload).toBe(Buffer.from('에코: hello').toString('base64'));
    expect(reply.message_positions).toEqual([0, reply.payload!.length]);
    expect(t.bridge.clients()).toMatchObject([{ botName: BOT, deviceId: DEVICE, version: '3.3.3', protocol: 'v3.3' }]);
  });

  it('serves v3.2 and v3.3 phones on one server at once, Korean and emoji alike', async () => {
    const several = handlerPlugin('e2e-v33-several', ({ message }) =>
      message.text === 'several' ? texts(['하나', 'two 😀', '셋 }{']) : `에코: ${message.text}`,
    );
    const t = await bridge({ plugins: [several], config: { pipeline: { replyGapMs: 0 } } });
    const old = await t.client({ deviceId: DEVICE });
    const current = await t.client({ ...v33, deviceId: OTHER_DEVICE });
    const text = '안녕하세요 😀👍🏽 é ñ } {"json":true}';
    await Promise.all([old.shouldReply(text, `에코: ${text}`), current.shouldReply(text, `에코: ${text}`)]);
    await Promise.all([old.shouldReply('several', ['하나', 'two 😀', '셋 }{']), current.shouldReply('several', ['하나', 'two 😀', '셋 }{'])]);
    expect(old.replies.every((r) => r.message_type === undefined)).toBe(true);
    const protocols = Object.fromEntries(t.bridge.clients().map((c) => [c.deviceId, c.protocol]));
    expect(protocols).toEqual({ [DEVICE]: 'v3.2', [OTHER_DEVICE]: 'v3.3' });
  });

  it('gives plugins the same message from both protocols (clientVersion for information only)', async () => {
    const seen: ChatMessage[] = [];
    const capture = handlerPlugin('e2e-v33-capture', ({ message }) => {
      seen.push(message);
      return 'ok';
    });
    const t = await bridge({ plugins: [capture] });
    const old = await t.client({ deviceId: DEVICE });
    const current = await t.client({ ...v33, deviceId: OTHER_DEVICE });
    await old.shouldReply({ text: '같은 줄 😀', isMention: true }, 'ok');
    await current.shouldReply({ text: '같은 줄 😀', isMention: true }, 'ok');
    const [a, b] = seen as [ChatMessage, ChatMessage];
    const common = ({ id, traceId, deviceId, logId, receivedAt, clientTimestamp, clientVersion, ...rest }: ChatMessage) => rest;
    expect(common(b)).toEqual(common(a));
    expect(common(a)).toMatchObject({ text: '같은 줄 😀', isMention: true, channelId: CHANNEL, legacy: false });
    expect([a.clientVersion, b.clientVersion]).toEqual(['3.2.1', '3.3.3']);
    expect(b.logId).toMatch(/^\d+$/);
    expect(b.id).toBe(`${BOT}/${CHANNEL}/${b.logId}`);
    // The v3.3 UTC stamp arrives as the phone's local time, the v3.2 way.
    expect(b.clientTimestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('takes the payload after the last } whatever the positions say; exact positions work too', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const rhino = await t.client(v33);
    await rhino.shouldReply('no braces here', '에코: no braces here');
    const exact = await t.client({ ...v33, deviceId: OTHER_DEVICE, positions: 'exact' });
    await exact.shouldReply({ text: 'x', room: '방 }{ "room"' }, '에코: x');
    expect(exact.replies.at(-1)!.room).toBe('방 }{ "room"');
  });

  it('drops a line with bad base64 (counted), keeps the connection and answers the next line', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client(v33);
    phone.sendRaw(messageLine('x', DEVICE, Buffer.from('truncated').toString('base64').slice(0, -2)));
    phone.sendRaw(messageLine('x', DEVICE, '!!!!'));
    await phone.shouldReply('after', '에코: after');
    expect(counter(t, 'packets_dropped', 'invalid_packet')).toBe(2);
    expect(phone.closeReason).toBeNull();
  });
});

describe('bridge v3.3: limits', () => {
  it('closes on a payload over the line limit before decoding it', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { limits: { maxLineBytes: 4_096 } } });
    const phone = await t.client(v33);
    phone.sendRaw(messageLine('x', DEVICE, 'QUFB'.repeat(2_000)));
    await phone.closed;
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_LINE_TOO_LONG', 1);
    expect(phone.replies).toEqual([]);
  });

  it('closes on a queued line over the pre-handshake line limit', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await connect(t, { ...v33, handshake: false });
    phone.sendRaw(messageLine('x'.repeat(20_000)) + handshakeV33());
    await phone.closed;
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_LINE_TOO_LONG', 1);
  });

  it('applies the text limit to the decoded text', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { limits: { maxTextLength: 10 } } });
    const phone = await t.client(v33);
    // 10 Korean characters: 30 UTF-8 bytes, 40 base64 characters, within the limit.
    await phone.shouldReply('가나다라마바사아자차', '에코: 가나다라마바사아자차');
    await phone.shouldNotReply('가나다라마바사아자차카');
    expect(counter(t, 'messages_rejected', 'text_too_long')).toBe(1);
  });
});

describe('bridge v3.3: media', () => {
  it('sends two images cut by positions, media types from the reply, and refuses media the raw payload cannot carry', async () => {
    const results: SendResult[][] = [];
    const media = handlerPlugin('e2e-v33-media', async (ctx) => {
      const args = ctx.message.text.split(' ').slice(2);
      if (ctx.message.text.startsWith('# IMGEXT')) return mediaBase64(args.map((a) => Buffer.from(`png:${a}`).toString('base64')), { waitMs: 3_000 });
      if (ctx.message.text === 'video') return mediaUrl('https://example.com/영상.mp4', { mediaType: 'video' });
      if (ctx.message.text === 'brace') {
        results.push([...(await ctx.reply(mediaUrl('https://example.com/{a}.png')))]);
        return 'after brace';
      }
      return undefined;
    });
    const t = await bridge({ plugins: [media] });
    const current = await t.client(v33);
    const old = await t.client({ deviceId: OTHER_DEVICE });
    const a = Buffer.from('png:a').toString('base64');
    const b = Buffer.from('png:b').toString('base64');
    await current.shouldReply('# IMGEXT a b', `IMAGE_BASE64:${a}|||${b}`);
    const image = current.replies.at(-1)!;
    expect(image).toMatchObject({ message_type: 'image', message_positions: [0, a.length, a.length + b.length], media_wait_time: 3_000, payload: a + b });
    await old.shouldReply('# IMGEXT a b', `IMAGE_BASE64:${a}|||${b}`);
    await current.shouldReply('video', 'MEDIA_URL:https://example.com/영상.mp4');
    expect(current.replies.at(-1)).toMatchObject({ message_type: 'video', message_positions: [0, 'https://example.com/영상.mp4'.length] });
    await current.shouldReply('brace', 'after brace');
    expect(results).toEqual([[{ status: 'rejected', traceId: expect.any(String), reason: 'invalid' }]]);
  });
});

describe('bridge v3.3: pings', () => {
  it('records pong (v3.3.3) and ping (v3.3.2+) answers with their round trip', async () => {
    const t = await bridge({ config: { session: { pingIntervalMs: 100, pingJitterMs: 0 } } });
    const pong = await t.client(v33);
    const ping = await t.client({ ...v33, deviceId: OTHER_DEVICE, pingAnswer: 'ping', version: '3.3.2' });
    await pong.nextPacket('ping');
    await ping.nextPacket('ping');
    await eventually('both round trips recorded', () => t.bridge.clients().every((c) => c.rttMs !== null), 3_000, () => t.bridge.clients());
    for (const client of t.bridge.clients()) {
      expect(client).toMatchObject({ protocol: 'v3.3', rttMs: expect.any(Number), monitoring: { totalMemory: 512 } });
    }
  });
});

describe('bridge v3.3: lines queued before the handshake', () => {
  it('answers every queued message after the handshake, in order', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { pipeline: { replyGapMs: 0 } } });
    const phone = await t.client({ ...v33, queued: ['q1', 'q2', { text: 'q3 한글' }] });
    const replies = await phone.waitForReplies(3);
    expect(replies.map((r) => r.text)).toEqual(['에코: q1', '에코: q2', '에코: q3 한글']);
    await phone.shouldReply('live', '에코: live');
  });

  it("checks each held line's auth against the handshake identity", async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { pipeline: { replyGapMs: 0 } } });
    const phone = await connect(t, { ...v33, handshake: false });
    phone.sendRaw(messageLine('first') + messageLine('forged', OTHER_DEVICE) + messageLine('third') + handshakeV33());
    const replies = await phone.waitForReplies(2);
    expect(replies.map((r) => r.text)).toEqual(['에코: first', '에코: third']);
    expect(counter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_IDENTITY')).toBe(1);
  });

  it('holds at most the configured lines; the rest are counted and logged, the connection stays', async () => {
    const t = await bridge({ plugins: [echoPlugin], captureLogs: true, config: { pipeline: { replyGapMs: 0 }, limits: { maxPreHandshakeLines: 2 } } });
    const phone = await t.client({ ...v33, queued: ['a', 'b', 'c', 'd'] });
    const replies = await phone.waitForReplies(2);
    expect(replies.map((r) => r.text)).toEqual(['에코: a', '에코: b']);
    await expectCounter(t, 'packets_dropped', 'pre_handshake_overflow', 2);
    // Logged once per connection, every one counted.
    expect(t.logs.filter((l) => l.code === 'BRIDGE_ERR_PRE_HANDSHAKE_OVERFLOW')).toHaveLength(1);
    await phone.shouldReply('live', '에코: live');
  });

  it('still closes a connection that sends only queued lines and no handshake (deadline)', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { session: fastSession } });
    const phone = await connect(t, { ...v33, handshake: false });
    phone.sendRaw(messageLine('orphan'));
    await phone.closed;
    expect(phone.replies).toEqual([]);
  });
});
