import { connect } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeError } from '../../src/errors.js';
import { TcpListener } from '../../src/transport/tcp-listener.js';
import { clientClosed, line, startHarness, until, type Harness } from './tcp-harness.js';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('TcpListener', () => {
  it('listens on port 0 and reports the bound address', async () => {
    harness = await startHarness();
    expect(harness.port).toBeGreaterThan(0);
    expect(harness.listener.listening).toBe(true);
  });

  it('refuses a connection over maxConnections at once and accepts again once one closes', async () => {
    harness = await startHarness({ maxConnections: 2, maxHandshaking: 10 });
    const a = await harness.client();
    await harness.client();
    await harness.accepted(1);

    const refused = await harness.client();
    const refusedEnd = await clientClosed(refused);
    // Destroyed before any read: the client sees EOF or a reset, never data.
    expect(refusedEnd.data.length).toBe(0);
    expect(refusedEnd.ended || refusedEnd.error !== null).toBe(true);
    expect(harness.refused).toMatchObject([{ code: 'BRIDGE_ERR_CONNECTION_LIMIT', limit: 2, remoteAddress: '127.0.0.1' }]);
    expect(harness.listener.stats()).toMatchObject({ open: 2, accepted: 2, refusedConnectionLimit: 1 });

    const first = await harness.accepted(0);
    a.destroy();
    await first.closed;
    expect(harness.listener.stats().open).toBe(1);

    const again = await harness.client();
    const third = await harness.accepted(2);
    again.write(line({ hello: 1 }));
    await until(() => third.packets.length === 1);
    expect(harness.listener.stats()).toMatchObject({ open: 2, refusedConnectionLimit: 1 });
  });

  it('refuses over maxHandshaking; a handshaken connection frees its place', async () => {
    harness = await startHarness({ maxConnections: 10, maxHandshaking: 1 });
    await harness.client();
    const first = await harness.accepted(0);

    const refused = await harness.client();
    await clientClosed(refused);
    expect(harness.refused).toMatchObject([{ code: 'BRIDGE_ERR_HANDSHAKE_LIMIT', limit: 1 }]);
    expect(harness.listener.stats()).toMatchObject({ handshaking: 1, refusedHandshakeLimit: 1 });

    first.conn.markHandshaken();
    first.conn.markHandshaken();
    expect(harness.listener.stats()).toMatchObject({ open: 1, handshaking: 0 });

    await harness.client();
    const second = await harness.accepted(1);
    expect(harness.listener.stats()).toMatchObject({ open: 2, handshaking: 1 });

    // Closing a handshaking connection frees its place too.
    second.conn.close('test');
    await second.closed;
    expect(harness.listener.stats()).toMatchObject({ open: 1, handshaking: 0 });
    await harness.client();
    await harness.accepted(2);
    expect(harness.refused).toHaveLength(1);
  });

  it('stopAccepting() closes the listening socket but leaves live connections working', async () => {
    harness = await startHarness();
    const client = await harness.client();
    const seen = await harness.accepted(0);
    await harness.listener.stopAccepting();
    expect(harness.listener.listening).toBe(false);

    const late = connect(harness.port, '127.0.0.1');
    const [error] = (await once(late, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');

    client.write(line({ still: 'alive' }));
    await until(() => seen.packets.length === 1);
    expect(seen.packets).toEqual([{ still: 'alive' }]);
    expect([...harness.listener.connections()]).toEqual([seen.conn]);
    await harness.listener.stopAccepting();
  });

  it('lists live connections and drops closed ones', async () => {
    harness = await startHarness();
    const a = await harness.client();
    await harness.client();
    const first = await harness.accepted(0);
    const second = await harness.accepted(1);
    expect([...harness.listener.connections()]).toEqual([first.conn, second.conn]);
    a.end();
    await first.closed;
    expect([...harness.listener.connections()]).toEqual([second.conn]);
    expect(first.conn.id).not.toBe(second.conn.id);
    expect(second.conn.info()).toMatchObject({ connectionId: second.conn.id, remoteAddress: '127.0.0.1' });
  });

  it('rejects listen() on a port in use', async () => {
    harness = await startHarness();
    const other = new TcpListener({
      maxConnections: 1,
      maxHandshaking: 1,
      connection: { lineLimit: 1024, json: { maxDepth: 4, maxKeys: 10 }, maxPendingOutputBytes: 1024 },
      onConnection: () => {},
    });
    const failure = await other.listen('127.0.0.1', harness.port).then(() => undefined, (error: unknown) => error as BridgeError);
    expect(failure).toBeInstanceOf(BridgeError);
    expect(failure).toMatchObject({ code: 'BRIDGE_ERR_LISTEN', params: { host: '127.0.0.1', port: harness.port, reason: 'EADDRINUSE' } });
    expect(failure!.message).toContain('--port or listen.port');
    // The system error stays reachable for logs and debugging.
    expect(failure!.cause).toMatchObject({ code: 'EADDRINUSE' });
  });
});
