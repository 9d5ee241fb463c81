import { describe, expect, it } from 'vitest';
import { counter, echoPlugin, eventually, expectCounter, lengthPlugin, useBridges } from './helpers.js';

/**
 * Issue 13, finding 2: a handshaken client must not be able to burn the CPU. Arrays and tokens
 * are bounded before JSON.parse, a connection's byte and line rates are throttled (its reading
 * pauses; nothing it sent is lost), and a connection that keeps sending rejected lines is closed.
 */

const { bridge } = useBridges();

/** A line of nested arrays within the depth limit: ~80 ms of JSON.parse at 1 MiB without the prescan limits. */
function nestedArrayLine(bytes: number): string {
  const unit = '[[[[[[[[[[[[[[]]]]]]]]]]]]]]';
  return `[${Array(Math.floor(bytes / (unit.length + 1))).fill(unit).join(',')}]\n`;
}

describe('CPU-bounded parsing after the handshake', () => {
  it('rejects a 1 MiB line of nested arrays within the depth limit; the connection stays', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.sendRaw(nestedArrayLine(1_000_000));
    await phone.shouldReply('after', '에코: after');
    expect(counter(t, 'bad_lines', 'BRIDGE_ERR_JSON_LIMITS')).toBe(1);
    expect(counter(t, 'rejected_lines', 'BRIDGE_ERR_JSON_LIMITS')).toBe(1);
  });

  it('closes a connection after limits.maxRejectedLines rejected lines, counted by reason', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { limits: { maxRejectedLines: 3 } } });
    const phone = await t.client();
    phone.sendRaw('not json\n');
    phone.sendRaw('{"event":"analyze","data":{"room":1}}\n');
    await phone.shouldReply('still here', '에코: still here');
    expect(phone.closeReason).toBeNull();
    phone.sendRaw(nestedArrayLine(100_000));
    await phone.closed;
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_REJECTED_LINES', 1);
    expect(counter(t, 'rejected_lines', 'BRIDGE_ERR_JSON_INVALID')).toBe(1);
    expect(counter(t, 'rejected_lines', 'invalid_packet')).toBe(1);
    expect(counter(t, 'rejected_lines', 'BRIDGE_ERR_JSON_LIMITS')).toBe(1);
  });

  it('throttles a connection over its message rate without losing a line', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { limits: { maxMessagesPerSecond: 10, rateBurstSeconds: 1 } } });
    const phone = await t.client();
    for (let i = 0; i < 16; i++) phone.analyze(`m${i}`);
    const replies = await phone.waitForReplies(16, 10_000);
    expect(replies.map((r) => r.text)).toEqual(Array.from({ length: 16 }, (_, i) => `에코: m${i}`));
    expect(counter(t, 'connections_throttled', 'messages')).toBeGreaterThanOrEqual(1);
  });

  it('throttles a connection over its byte rate without losing a line', async () => {
    const t = await bridge({ plugins: [lengthPlugin], config: { limits: { maxBytesPerSecond: 8_192, rateBurstSeconds: 1, maxLineBytes: 8_192 } } });
    const phone = await t.client();
    for (let i = 0; i < 4; i++) phone.analyze('가'.repeat(1_500));
    const replies = await phone.waitForReplies(4, 10_000);
    expect(replies.map((r) => r.text)).toEqual(Array(4).fill('len:1500'));
    await eventually('bytes throttled', () => counter(t, 'connections_throttled', 'bytes') >= 1);
  });
});
