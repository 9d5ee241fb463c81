import { connect as netConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';
import { BOT, counter, echoPlugin, eventually, handshakeLine, useBridges } from './helpers.js';

/**
 * Issue 11 §9: after a restart every phone reconnects within the same second. A burst beyond the
 * handshake slots waits for a slot instead of being refused; one address holding idle
 * pre-handshake sockets is capped, so it cannot lock other phones out (issue 13).
 */

const { bridge } = useBridges();
const raw: Socket[] = [];
const phones: FakeBridgeClient[] = [];

afterEach(async () => {
  for (const socket of raw.splice(0)) socket.destroy();
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

const deviceOf = (i: number) => i.toString(16).padStart(16, '0');

async function idleSocket(port: number, localAddress: string): Promise<{ socket: Socket; closed: Promise<unknown> }> {
  const socket = netConnect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {});
  raw.push(socket);
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  return { socket, closed };
}

describe('restart storm', () => {
  it('150 simultaneous connects with 20 handshake slots: every one handshakes, none is refused', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { limits: { maxConnections: 200, maxHandshakingConnections: 20 } } });
    // Every socket is connected before any handshake is written, so all 150 compete for the 20
    // slots at once (connects spread over time would each find a free slot and prove nothing).
    const connecting = Array.from({ length: 150 }, (_, i) =>
      FakeBridgeClient.connect({ port: t.port, deviceId: deviceOf(i), handshake: false, handshakeTimeoutMs: 20_000 }).then((phone) => {
        phones.push(phone);
        return phone;
      }),
    );
    const all = await Promise.all(connecting);
    // All come from 127.0.0.1, so they hold at most maxHandshakingPerAddress (10) slots; 140 wait.
    await eventually('140 are waiting for a slot', () => t.bridge.stats().connections === 10);
    all.forEach((phone, i) => phone.sendRaw(handshakeLine(BOT, deviceOf(i))));
    const answers = await Promise.all(all.map((phone) => phone.handshake));
    expect(answers.every((a) => a.success === true)).toBe(true);
    expect(t.bridge.clients()).toHaveLength(150);
    expect(counter(t, 'connections', 'refused_handshake_cap')).toBe(0);
    expect(counter(t, 'connections', 'refused_address_cap')).toBe(0);
    expect(counter(t, 'connections', 'accepted')).toBe(150);
    // They are live phones, not just handshakes.
    await all[149]!.shouldReply('after the storm', '에코: after the storm');
  }, 30_000);

  it('one address holding idle pre-handshake sockets is capped; another address still gets in', async () => {
    const limits = { maxHandshakingConnections: 6, maxHandshakingPerAddress: 3, maxWaitingConnections: 4, handshakeSlotWaitMs: 10_000 };
    const t = await bridge({ plugins: [echoPlugin], config: { limits } });
    // 127.0.0.2 never sends its handshake: 3 slots, 2 waiting places (half the line), the rest refused.
    const idle = [];
    for (let i = 0; i < 8; i++) idle.push(await idleSocket(t.port, '127.0.0.2'));
    await eventually('the extra idle sockets are refused', () => counter(t, 'connections', 'refused_address_cap') === 3);
    await Promise.all(idle.slice(5).map((s) => s.closed));
    expect(idle.slice(0, 5).every((s) => !s.socket.destroyed)).toBe(true);

    // A phone on another address handshakes at once, and so do two more (3 slots are still free).
    for (const n of [1, 2, 3]) {
      const phone = await FakeBridgeClient.connect({ port: t.port, deviceId: String(n).repeat(16) });
      phones.push(phone);
      expect(await phone.handshake).toMatchObject({ success: true });
    }
    await phones[0]!.shouldReply('hello', '에코: hello');
    expect(counter(t, 'connections', 'refused_handshake_cap')).toBe(0);
  }, 20_000);

  it('issue 13 with the default limits: 20 idle sockets from one address no longer lock other phones out', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    for (let i = 0; i < 20; i++) await idleSocket(t.port, '127.0.0.2');
    // 10 hold slots (limits.maxHandshakingPerAddress), 10 wait; none of the 20 slots is free for them.
    await eventually('the idle address holds its 10 slots', () => t.bridge.stats().connections === 10);
    const phone = await FakeBridgeClient.connect({ port: t.port });
    phones.push(phone);
    expect(await phone.handshake).toMatchObject({ success: true });
    await phone.shouldReply('still open', '에코: still open');
  });
});
