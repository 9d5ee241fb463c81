import { describe, expect, it } from 'vitest';
import { analyzeLine, counter, echoPlugin, expectCounter, handshakeLine, lengthPlugin, signedAnalyze, useBridges } from './helpers.js';

/**
 * PROTOCOL.md §1 (botbridge): bounded lines, guarded JSON, a bad line after the handshake is
 * skipped and the connection stays. "Stays" is proven by the next valid packet being answered.
 */

const { bridge, connect } = useBridges();
const MAX_LINE = 1_048_576;

/** An analyze line of exactly `bytes` bytes incl. `\n` (padding the ASCII text). */
function analyzeLineOfSize(bytes: number): string {
  const empty = analyzeLine(signedAnalyze({ text: '' }));
  return analyzeLine(signedAnalyze({ text: 'a'.repeat(bytes - Buffer.byteLength(empty)) }));
}

describe('line limit after the handshake', () => {
  // The text limit is raised so the line limit is what is tested.
  const config = { limits: { maxTextLength: 2_000_000 } };

  it('accepts a line of exactly 1 MiB including its \\n', async () => {
    const t = await bridge({ plugins: [lengthPlugin], config });
    const phone = await t.client();
    const line = analyzeLineOfSize(MAX_LINE);
    expect(Buffer.byteLength(line)).toBe(MAX_LINE);
    phone.sendRaw(line);
    expect((await phone.nextReply()).text).toMatch(/^len:\d+$/);
    expect(phone.closeReason).toBeNull();
  });

  it('closes the connection on a line one byte over 1 MiB', async () => {
    const t = await bridge({ plugins: [lengthPlugin], config });
    const phone = await t.client();
    phone.sendRaw(analyzeLineOfSize(MAX_LINE + 1));
    await phone.closed;
    expect(phone.replies).toEqual([]);
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_LINE_TOO_LONG', 1);
  });

  it('closes the connection on an endless line without buffering it all', async () => {
    const t = await bridge({ plugins: [lengthPlugin], config });
    const phone = await t.client();
    const chunk = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 8; i++) phone.sendRaw(chunk);
    await phone.closed;
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_LINE_TOO_LONG', 1);
  });

  it('honours limits.maxLineBytes', async () => {
    const t = await bridge({ plugins: [lengthPlugin], config: { limits: { maxLineBytes: 4_096 } } });
    const phone = await t.client();
    phone.sendRaw(analyzeLineOfSize(4_096));
    expect((await phone.nextReply()).text).toMatch(/^len:/);
    phone.sendRaw(analyzeLineOfSize(4_097));
    await phone.closed;
  });
});

describe('JSON guards after the handshake', () => {
  it('skips a line that is not JSON and answers the next packet', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.sendRaw('{"event":"analyze","data":{\n');
    phone.sendRaw('hello world\n');
    await phone.shouldReply('after', '에코: after');
    expect(counter(t, 'bad_lines', 'BRIDGE_ERR_JSON_INVALID')).toBe(2);
  });

  it('rejects and counts deeply nested JSON; the connection stays', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    const nested = '['.repeat(5_000) + ']'.repeat(5_000);
    phone.sendRaw(`{"event":"analyze","data":{"text":"deep","nested":${nested}}}\n`);
    await phone.shouldReply('after', '에코: after');
    expect(counter(t, 'bad_lines', 'BRIDGE_ERR_JSON_LIMITS')).toBe(1);
  });

  it('rejects a packet nested just past limits.maxJsonDepth', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { limits: { maxJsonDepth: 4 } } });
    const phone = await t.client();
    const data = { ...signedAnalyze({ text: 'too deep' }), extra: [[[1]]] };
    phone.sendRaw(analyzeLine(data));
    await phone.shouldReply('after', '에코: after');
    expect(counter(t, 'bad_lines', 'BRIDGE_ERR_JSON_LIMITS')).toBe(1);
  });

  it('rejects a packet with too many keys', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    const extra = Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`k${i}`, i]));
    phone.sendRaw(analyzeLine({ ...signedAnalyze({ text: 'many keys' }), extra }));
    await phone.shouldReply('after', '에코: after');
    expect(counter(t, 'bad_lines', 'BRIDGE_ERR_JSON_LIMITS')).toBe(1);
  });

  for (const key of ['__proto__', 'constructor']) {
    it(`rejects a packet with a ${key} key`, async () => {
      const t = await bridge({ plugins: [echoPlugin] });
      const phone = await t.client();
      const line = analyzeLine(signedAnalyze({ text: 'poison' })).replace('"room":', `"${key}":{"isAdmin":true},"room":`);
      expect(line).toContain(`"${key}":`);
      phone.sendRaw(line);
      await phone.shouldReply('after', '에코: after');
      expect(counter(t, 'bad_lines', 'BRIDGE_ERR_JSON_POISON')).toBe(1);
    });
  }

  it('counts and drops an unknown event; the connection stays', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.sendRaw(`${JSON.stringify({ event: 'message', data: { text: 'v3.3 style' } })}\n`);
    phone.sendRaw(`${JSON.stringify({ hello: 'no event at all' })}\n`);
    await phone.shouldReply('after', '에코: after');
    expect(counter(t, 'packets_dropped')).toBe(2);
    expect(counter(t, 'packets_dropped', 'unknown_event')).toBeGreaterThanOrEqual(1);
  });

  it('drops an analyze packet with wrong field types', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.sendRaw(analyzeLine({ ...signedAnalyze({ text: 'x' }), text: 42 }));
    await phone.shouldReply('after', '에코: after');
    expect(counter(t, 'packets_dropped', 'invalid_packet')).toBe(1);
  });
});

describe('line endings', () => {
  it('accepts \\r\\n after the handshake and on the handshake itself', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await connect(t, { handshake: false });
    phone.sendRaw(handshakeLine().replace('\n', '\r\n'));
    expect(await phone.handshake).toMatchObject({ success: true });
    phone.sendRaw(analyzeLine(signedAnalyze({ text: 'crlf' }), '\r\n'));
    expect((await phone.nextReply()).text).toBe('에코: crlf');
    phone.sendRaw(analyzeLine(signedAnalyze({ text: 'lf' })));
    expect((await phone.nextReply()).text).toBe('에코: lf');
    expect(counter(t, 'bad_lines')).toBe(0);
  });

  it('reassembles a packet split across TCP writes, mid UTF-8 character', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    // No automatic ping answer: one landing between the two halves would split the line itself.
    const phone = await t.client({ autoPong: false });
    const bytes = Buffer.from(analyzeLine(signedAnalyze({ text: '한글 메시지' })));
    const cut = bytes.indexOf(Buffer.from('글')) + 1;
    phone.sendRaw(bytes.subarray(0, cut));
    await new Promise((resolve) => setTimeout(resolve, 50));
    phone.sendRaw(bytes.subarray(cut));
    expect((await phone.nextReply()).text).toBe('에코: 한글 메시지');
  });
});
