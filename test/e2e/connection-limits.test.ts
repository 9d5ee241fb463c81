import { describe, expect, it } from 'vitest';
import { texts } from '@botbridge/sdk';
import { counter, echoPlugin, eventually, expectCounter, handlerPlugin, handshakeLine, useBridges } from './helpers.js';

/**
 * PROTOCOL.md §2 (botbridge): a connection over a cap is refused at once (the old server let it
 * wait forever); a client that stops reading is closed once its pending output passes the limit.
 */

const { bridge, connect } = useBridges();

describe('connection cap', () => {
  it('refuses the 4th connection at once with limits.maxConnections 3, and frees a slot on close', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { limits: { maxConnections: 3 } } });
    const phones = [];
    for (const id of ['1', '2', '3']) phones.push(await t.client({ deviceId: id.repeat(16) }));

    const fourth = await connect(t, { deviceId: '4'.repeat(16) });
    await fourth.closed;
    await expect(fourth.handshake).rejects.toThrow(/closed/);
    expect(fourth.packets).toEqual([]);
    expect(counter(t, 'connections', 'refused_cap')).toBe(1);
    for (const phone of phones) expect(phone.closeReason).toBeNull();

    await phones[0]!.close();
    await eventually('the closed connection is released', () => t.bridge.stats().connections === 2);
    const fifth = await t.client({ deviceId: '5'.repeat(16) });
    expect(await fifth.handshake).toMatchObject({ success: true });
    await fifth.shouldReply('in', '에코: in');
  });

  it('counts connections that have not handshaken against the cap too', async () => {
    const t = await bridge({ config: { limits: { maxConnections: 2 } } });
    await connect(t, { handshake: false });
    await connect(t, { handshake: false });
    const third = await t.client().catch((error: Error) => error);
    expect(third).toBeInstanceOf(Error);
    expect(counter(t, 'connections', 'refused_cap')).toBe(1);
  });
});

describe('handshaking cap', () => {
  it('refuses a connection while limits.maxHandshakingConnections are still handshaking (no waiting line)', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { limits: { maxHandshakingConnections: 2, maxWaitingConnections: 0 } } });
    const a = await connect(t, { handshake: false });
    const b = await connect(t, { handshake: false, deviceId: 'b'.repeat(16) });
    await eventually('both are open', () => t.bridge.stats().connections === 2);

    const refused = await connect(t, { deviceId: 'c'.repeat(16) });
    await refused.closed;
    expect(refused.packets).toEqual([]);
    expect(counter(t, 'connections', 'refused_handshake_cap')).toBe(1);

    // A completed handshake frees its handshaking slot.
    a.sendRaw(handshakeLine());
    expect(await a.handshake).toMatchObject({ success: true });
    const d = await t.client({ deviceId: 'd'.repeat(16) });
    await d.shouldReply('in', '에코: in');
    expect(b.closeReason).toBeNull();
  });

  it('handshaken connections do not count against the handshaking cap', async () => {
    const t = await bridge({ config: { limits: { maxHandshakingConnections: 1 } } });
    for (const id of ['1', '2', '3', '4']) {
      const phone = await t.client({ deviceId: id.repeat(16) });
      expect(phone.closeReason).toBeNull();
    }
    expect(t.bridge.clients()).toHaveLength(4);
  });
});

describe('a client that stops reading', () => {
  const FLOOD = 60;
  // 60 replies × 60,000 three-byte characters ≈ 10.8 MB: far more than kernel buffers hold.
  const flood = handlerPlugin('e2e-flood', ({ message }) =>
    message.text === 'flood' ? texts(Array.from({ length: FLOOD }, (_, i) => `${i}:${'가'.repeat(60_000)}`)) : `에코: ${message.text}`,
  );
  const config = { limits: { maxPendingOutputBytes: 256 * 1024 }, pipeline: { replyGapMs: 0 } };

  it('is closed once its pending output passes limits.maxPendingOutputBytes; others are unaffected', async () => {
    const t = await bridge({ plugins: [flood], config });
    const stuck = await t.client({ deviceId: '1'.repeat(16) });
    // Another bot: replies the stuck phone could not take are kept in the outbox for its bot,
    // which would deliver them to any other device of the same bot.
    const healthy = await t.client({ botName: 'other.bot', deviceId: '2'.repeat(16) });
    stuck.stopReading();
    stuck.analyze('flood');
    await eventually(
      'the stuck client is dropped',
      () => !t.bridge.clients().some((c) => c.deviceId === '1'.repeat(16)),
      10_000,
      () => t.bridge.clients().map((c) => ({ deviceId: c.deviceId, pending: c.pendingOutputBytes })),
    );
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_OUTPUT_OVERFLOW', 1);
    await healthy.shouldReply('still fine', '에코: still fine');
    expect(healthy.closeReason).toBeNull();

    stuck.resumeReading();
    await stuck.closed;
    expect(stuck.replies.length).toBeLessThan(FLOOD);
    // What the closed connection did not take waits for the bot's next device instead of being lost.
    await eventually('the rest is queued', () => t.bridge.stats().outbox.queued > 0, 5_000);
  }, 20_000);

  it('a client that keeps reading gets every reply of the same burst', async () => {
    const t = await bridge({ plugins: [flood], config: { ...config, limits: { maxPendingOutputBytes: 64 * 1024 * 1024 } } });
    const phone = await t.client();
    phone.analyze('flood');
    const replies = await phone.waitForReplies(FLOOD, 15_000);
    expect(replies.map((r) => Number(r.text.split(':')[0]))).toEqual(Array.from({ length: FLOOD }, (_, i) => i));
  }, 20_000);
});
