import { afterEach, describe, expect, it } from 'vitest';
import { clientClosed, line, startHarness, until, type Harness } from './tcp-harness.js';

/** The listener's handshake slots: a bounded waiting line instead of refusals, and a per-address cap. */

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('handshake slots', () => {
  it('a connection finding every slot taken waits, unread, and gets the first free slot in arrival order', async () => {
    harness = await startHarness({ maxHandshaking: 1, maxWaiting: 10, maxWaitMs: 10_000 });
    await harness.client();
    const first = await harness.accepted(0);
    const second = await harness.client();
    const third = await harness.client();
    second.write(line({ n: 2 }));
    third.write(line({ n: 3 }));
    await until(() => harness!.listener.stats().waiting === 2);
    expect(harness.listener.stats()).toMatchObject({ open: 1, handshaking: 1, waiting: 2, refusedHandshakeLimit: 0 });

    first.conn.markHandshaken();
    const secondSeen = await harness.accepted(1);
    // What it wrote while waiting was kept in the kernel and is read now.
    await until(() => secondSeen.packets.length === 1);
    expect(secondSeen.packets).toEqual([{ n: 2 }]);
    expect(harness.listener.stats()).toMatchObject({ handshaking: 1, waiting: 1 });

    // Closing in handshake frees the slot too.
    secondSeen.conn.close('test');
    const thirdSeen = await harness.accepted(2);
    await until(() => thirdSeen.packets.length === 1);
    expect(thirdSeen.packets).toEqual([{ n: 3 }]);
    expect(harness.refused).toEqual([]);
  });

  it('refuses a waiter whose wait expired, and refuses at once when the line is full', async () => {
    harness = await startHarness({ maxHandshaking: 1, maxWaiting: 1, maxWaitMs: 200 });
    await harness.client();
    await harness.accepted(0);
    const waiter = await harness.client();
    await until(() => harness!.listener.stats().waiting === 1);
    const overflow = await harness.client();
    const overflowEnd = await clientClosed(overflow);
    expect(overflowEnd.data.length).toBe(0);
    const waiterEnd = await clientClosed(waiter);
    expect(waiterEnd.data.length).toBe(0);
    expect(harness.refused.map((r) => r.code)).toEqual(['BRIDGE_ERR_HANDSHAKE_LIMIT', 'BRIDGE_ERR_HANDSHAKE_LIMIT']);
    expect(harness.listener.stats()).toMatchObject({ open: 1, waiting: 0, refusedHandshakeLimit: 2 });
  });

  it('a client that gave up while waiting holds its slot only until its EOF is read', async () => {
    // A waiting socket is not read, so its FIN is seen only once it gets a slot.
    harness = await startHarness({ maxHandshaking: 1, maxWaiting: 5, maxWaitMs: 10_000 });
    await harness.client();
    const first = await harness.accepted(0);
    const quitter = await harness.client();
    const patient = await harness.client();
    await until(() => harness!.listener.stats().waiting === 2);
    quitter.destroy();
    first.conn.markHandshaken();
    const quitterSeen = await harness.accepted(1);
    expect((await quitterSeen.closed).reason).toBe('client-closed');
    const patientSeen = await harness.accepted(2);
    patient.write(line({ still: 'here' }));
    await until(() => patientSeen.packets.length === 1);
    expect(harness.listener.stats()).toMatchObject({ handshaking: 1, waiting: 0 });
    expect(harness.refused).toEqual([]);
  });

  it('one address holds at most its share of slots and of the line; another address still gets a slot at once', async () => {
    harness = await startHarness({ maxHandshaking: 4, maxHandshakingPerAddress: 2, maxWaiting: 4, maxWaitMs: 10_000 });
    // 127.0.0.2: 2 slots, then 2 waiting places (half the line), then refused.
    const idle = [];
    for (let i = 0; i < 5; i++) idle.push(await harness.client('127.0.0.2'));
    await until(() => harness!.refused.length === 1);
    expect(harness.refused).toMatchObject([{ code: 'BRIDGE_ERR_ADDRESS_HANDSHAKE_LIMIT', limit: 2, remoteAddress: '127.0.0.2' }]);
    expect(harness.listener.stats()).toMatchObject({ open: 2, handshaking: 2, waiting: 2, refusedAddressLimit: 1 });

    // Two slots are free, but not for 127.0.0.2: the other address takes one at once.
    const other = await harness.client('127.0.0.1');
    const otherSeen = await harness.accepted(2);
    other.write(line({ hello: 'other' }));
    await until(() => otherSeen.packets.length === 1);
    expect(otherSeen.conn.remoteAddress).toBe('127.0.0.1');

    // A slot of 127.0.0.2 freed goes to its first waiter.
    const firstIdle = await harness.accepted(0);
    firstIdle.conn.close('test');
    const next = await harness.accepted(3);
    expect(next.conn.remoteAddress).toBe('127.0.0.2');
    expect(harness.listener.stats()).toMatchObject({ handshaking: 3, waiting: 1 });
    for (const socket of idle) socket.destroy();
  });
});
