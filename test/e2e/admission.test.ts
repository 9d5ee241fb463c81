import { describe, expect, it } from 'vitest';
import { analyzeLine, counter, echoPlugin, legacyTwinOf, lengthPlugin, signedAnalyze, useBridges } from './helpers.js';

/**
 * PROTOCOL.md §3 and §7: message-id dedup, the legacy twin, and the chat text limit. Each test
 * ends with a sentinel message: replies of a room keep message order, so every reply the
 * earlier messages caused has arrived before the sentinel's.
 */

const { bridge } = useBridges();

describe('dedup', () => {
  it('answers the same logId once', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.analyze({ text: 'twice', logId: '9007199254740993123' });
    phone.analyze({ text: 'twice', logId: '9007199254740993123' });
    phone.analyze('sentinel');
    expect((await phone.waitForReplies(2)).map((r) => r.text)).toEqual(['에코: twice', '에코: sentinel']);
    expect(counter(t, 'dedup_drops')).toBe(1);
  });

  it('keeps logIds above 2^53 distinct (no float rounding)', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    // Both round to the same double; as strings they are different messages.
    phone.analyze({ text: 'a', logId: '9007199254740993' });
    phone.analyze({ text: 'b', logId: '9007199254740992' });
    expect((await phone.waitForReplies(2)).map((r) => r.text)).toEqual(['에코: a', '에코: b']);
    expect(counter(t, 'dedup_drops')).toBe(0);
  });

  it('answers a line and its legacy twin once', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.analyze('with twin', { legacyTwin: true });
    phone.analyze('sentinel');
    expect((await phone.waitForReplies(2)).map((r) => r.text)).toEqual(['에코: with twin', '에코: sentinel']);
    expect(counter(t, 'dedup_drops')).toBe(1);
  });

  it('answers a legacy twin arriving before its logId twin once', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    const line = signedAnalyze({ text: 'twin first' });
    phone.sendRaw(analyzeLine(legacyTwinOf(line)) + analyzeLine(line));
    phone.analyze('sentinel');
    // The twin (no channelId: room key `name:<room>`) and the sentinel (its channelId) are in two
    // rooms, whose replies are not ordered with each other (their first room lookups race on a
    // networked store).
    expect((await phone.waitForReplies(2)).map((r) => r.text).sort()).toEqual(['에코: sentinel', '에코: twin first']);
    expect(counter(t, 'dedup_drops')).toBe(1);
  });

  it('answers two distinct messages with identical text', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.analyze('ㅋㅋ');
    phone.analyze('ㅋㅋ');
    phone.analyze('sentinel');
    expect((await phone.waitForReplies(3)).map((r) => r.text)).toEqual(['에코: ㅋㅋ', '에코: ㅋㅋ', '에코: sentinel']);
    expect(counter(t, 'dedup_drops')).toBe(0);
  });

  it('scopes logIds by channel: the same logId in another room is another message', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.analyze({ text: 'room 1', logId: '5555', channelId: '1001', room: '방1' });
    phone.analyze({ text: 'room 2', logId: '5555', channelId: '1002', room: '방2' });
    const texts = (await phone.waitForReplies(2)).map((r) => r.text).sort();
    expect(texts).toEqual(['에코: room 1', '에코: room 2']);
  });

  it('answers a logId-less line that has no twin', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.analyze({ text: 'legacy only', logId: null });
    expect((await phone.nextReply()).text).toBe('에코: legacy only');
  });
});

describe('chat text limit', () => {
  it('processes a text of exactly 65,000 characters', async () => {
    const t = await bridge({ plugins: [lengthPlugin] });
    const phone = await t.client();
    await phone.shouldReply('가'.repeat(65_000), 'len:65000');
  });

  it('rejects and counts a text of 65,001 characters; the connection stays', async () => {
    const t = await bridge({ plugins: [lengthPlugin] });
    const phone = await t.client();
    phone.analyze('가'.repeat(65_001));
    await phone.shouldReply('sentinel', 'len:8');
    expect(counter(t, 'messages_rejected', 'text_too_long')).toBe(1);
  });

  it('counts UTF-16 units: 32,501 emoji (65,002 units) are too long', async () => {
    const t = await bridge({ plugins: [lengthPlugin] });
    const phone = await t.client();
    phone.analyze('😀'.repeat(32_501));
    await phone.shouldReply('sentinel', 'len:8');
    expect(counter(t, 'messages_rejected', 'text_too_long')).toBe(1);
  });

  it('honours limits.maxTextLength', async () => {
    const t = await bridge({ plugins: [lengthPlugin], config: { limits: { maxTextLength: 10 } } });
    const phone = await t.client();
    await phone.shouldReply('0123456789', 'len:10');
    await phone.shouldNotReply('0123456789a');
  });
});
