import { describe, expect, it } from 'vitest';
import { counter, eventually, expectCounter, fastSession, handshakeLine, sleep, useBridges } from './helpers.js';

/** PROTOCOL.md §2 (botbridge): the handshake deadline is absolute and the pre-handshake line small. */

const { bridge, connect } = useBridges();

describe('handshake deadline', () => {
  it('closes a connection that sends no handshake at the deadline', async () => {
    const t = await bridge({ config: { session: fastSession } });
    const started = Date.now();
    const silent = await connect(t, { handshake: false });
    await silent.closed;
    // Lower bound only: the deadline must not fire early.
    expect(Date.now() - started).toBeGreaterThanOrEqual(fastSession.handshakeTimeoutMs - 10);
    expect(silent.packets).toEqual([]);
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_HANDSHAKE_TIMEOUT', 1);
  });

  it('closes a client dripping its handshake one byte every 50 ms at the same absolute deadline', async () => {
    const t = await bridge({ config: { session: fastSession } });
    const dripper = await connect(t, { handshake: false });
    const line = handshakeLine();
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < line.length && dripper.closeReason === null) dripper.sendRaw(line[sent++]!);
    }, 50);
    try {
      await dripper.closed;
    } finally {
      clearInterval(drip);
    }
    // A deadline reset by every byte would have let the whole line through (~8 s of drip).
    expect(sent).toBeLessThan(line.length);
    expect(dripper.packets).toEqual([]);
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_HANDSHAKE_TIMEOUT', 1);
  }, 15_000);

  it('a handshake completed in time cancels the deadline', async () => {
    const t = await bridge({ config: { session: { ...fastSession, pingIntervalMs: 60_000 } } });
    const phone = await t.client();
    await sleep(fastSession.handshakeTimeoutMs * 2);
    expect(phone.closeReason).toBeNull();
    expect(t.bridge.clients()).toHaveLength(1);
  });
});

describe('pre-handshake line limit', () => {
  it('closes a connection whose first line exceeds 16 KiB', async () => {
    const t = await bridge();
    const client = await connect(t, { handshake: false });
    client.sendRaw(`{"botName":"${'x'.repeat(17_000)}"`);
    await client.closed;
    expect(client.packets).toEqual([]);
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_LINE_TOO_LONG', 1);
  });

  it('accepts a handshake line of exactly 16 KiB including its \\n', async () => {
    const t = await bridge();
    const base = handshakeLine();
    // Pads deviceInfo so the line incl. `\n` is exactly 16,384 bytes.
    const padding = 16_384 - Buffer.byteLength(base);
    const line = base.replace('"deviceInfo":"', `"deviceInfo":"${'i'.repeat(padding)}`);
    expect(Buffer.byteLength(line)).toBe(16_384);
    const client = await connect(t, { handshake: false });
    client.sendRaw(line);
    expect(await client.handshake).toMatchObject({ success: true });
  });

  it('frees the handshaking slot of a closed connection', async () => {
    const t = await bridge({ config: { session: fastSession, limits: { maxHandshakingConnections: 1 } } });
    const stuck = await connect(t, { handshake: false });
    await stuck.closed;
    await eventually('connection count drops to 0', () => t.bridge.stats().connections === 0);
    const phone = await t.client();
    expect(phone.closeReason).toBeNull();
  });
});
