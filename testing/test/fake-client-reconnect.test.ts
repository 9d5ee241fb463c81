import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { FakeBridgeClient } from '../src/fake-client.js';
import { createTestBridge, type TestBridge } from '../src/test-bridge.js';

/**
 * The fake phone's server list (docs/protocol.md, reconnects): after a failure it waits its
 * reconnect delay, walks the list from the server that worked last, stays on the first that
 * accepts, and sends what it queued while away after the handshake. Real bridges over TCP.
 */

const echo = definePlugin({
  name: 'echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => `echo: ${message.text}`);
  },
});

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  cleanups = [];
});

async function bridge(): Promise<TestBridge> {
  const t = await createTestBridge({ plugins: [echo], config: { pipeline: { replyGapMs: 0 } } });
  cleanups.push(() => t.close());
  return t;
}

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('FakeBridgeClient server list', () => {
  it('skips a dead server at the first connect, walks to the next after its delay, and sends its offline queue there', async () => {
    const [a, b] = [await bridge(), await bridge()];
    const dead = await deadPort();
    const phone = await FakeBridgeClient.connect({
      port: 0, botName: 'walk-bot', deviceId: 'walker', servers: [{ port: dead }, { port: a.port }, { port: b.port }], reconnect: { delaysMs: [300] },
    });
    cleanups.push(() => phone.close());
    await phone.handshake;
    expect(phone.connections.map((c) => c.server.port)).toEqual([a.port]);
    phone.analyze({ text: '하나', channelId: '1', room: '방' });
    expect((await phone.nextReply()).text).toBe('echo: 하나');

    await a.close();
    // Between connections: queued, not written into a dead socket.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(phone.connected).toBe(false);
    phone.analyze({ text: '둘', channelId: '1', room: '방' });
    await phone.nextHandshake(5_000);
    expect((await phone.nextReply(5_000)).text).toBe('echo: 둘');
    const [first, second] = phone.connections;
    expect(second!.server.port).toBe(b.port);
    // It waited its delay before walking on (generous upper bound: a loaded machine).
    expect(second!.connectedAt - first!.closedAt!).toBeGreaterThanOrEqual(290);
    expect(second!.handshakeAt! - first!.closedAt!).toBeLessThan(3_000);
    expect(phone.closeReason).toBeNull();
    expect(phone.replies.map((r) => r.text)).toEqual(['echo: 하나', 'echo: 둘']);
  });

  it('without a server list it stays closed, as before', async () => {
    const a = await bridge();
    const phone = await FakeBridgeClient.connect({ port: a.port, botName: 'walk-bot', deviceId: 'single' });
    cleanups.push(() => phone.close());
    await phone.handshake;
    await a.close();
    await phone.closed;
    expect(phone.closeReason).not.toBeNull();
    expect(phone.connections).toHaveLength(1);
  });
});
