import { afterEach, describe, expect, it } from 'vitest';
import { HANDSHAKE_LIMIT, clientClosed, line, startHarness, until, type Harness } from './tcp-harness.js';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('Connection framing and JSON', () => {
  it('delivers packets in order, including lines split across writes', async () => {
    harness = await startHarness();
    const client = await harness.client();
    const seen = await harness.accepted(0);
    client.write('{"n":1}\n{"n":');
    client.write('2}\n{"room":"테스트');
    client.write('방"}\n');
    await until(() => seen.packets.length === 3);
    expect(seen.packets).toEqual([{ n: 1 }, { n: 2 }, { room: '테스트방' }]);
  });

  it('closes a connection whose line exceeds the limit, with the reason', async () => {
    harness = await startHarness();
    const client = await harness.client();
    const closed = clientClosed(client);
    const seen = await harness.accepted(0);
    client.write(`${'x'.repeat(HANDSHAKE_LIMIT)}\n`);
    expect(await seen.closed).toEqual({ reason: 'BRIDGE_ERR_LINE_TOO_LONG', detail: `line exceeds ${HANDSHAKE_LIMIT} bytes` });
    expect((await closed).error === null || (await closed).ended).toBe(true);
    expect(seen.packets).toEqual([]);
  });

  it('applies the 16 KiB limit before the handshake and the raised limit after, within one write', async () => {
    harness = await startHarness({
      onPacket: (seen, value) => {
        seen.packets.push(value);
        // As the session does on a valid handshake: raise the limit synchronously.
        if ((value as { botName?: string }).botName) seen.conn.setLineLimit(1_048_576);
      },
    });
    const big = { event: 'analyze', data: { text: 'a'.repeat(100_000) } };
    const client = await harness.client();
    const seen = await harness.accepted(0);
    client.write(line({ botName: 'b', version: '3.2.1', deviceID: 'd' }) + line(big));
    await until(() => seen.packets.length === 2);
    expect(seen.packets[1]).toEqual(big);

    const strict = await harness.client();
    const strictSeen = await harness.accepted(1);
    strict.write(line(big));
    expect((await strictSeen.closed).reason).toBe('BRIDGE_ERR_LINE_TOO_LONG');
  });

  it('reports bad JSON and keeps the connection', async () => {
    harness = await startHarness();
    const client = await harness.client();
    const seen = await harness.accepted(0);
    client.write('{"event":\n{"__proto__":{"x":1}}\n{"ok":true}\n');
    await until(() => seen.packets.length === 1);
    expect(seen.badLines.map((b) => b.code)).toEqual(['BRIDGE_ERR_JSON_INVALID', 'BRIDGE_ERR_JSON_POISON']);
    expect(seen.packets).toEqual([{ ok: true }]);
    expect(seen.conn.isClosing).toBe(false);
  });

  it('delivers every line exactly once and in order across pause and resume', async () => {
    const count = 2_000;
    harness = await startHarness({
      onPacket: (seen, value) => {
        seen.packets.push(value);
        // Two overlapping reasons: reading resumes only when both are released.
        seen.conn.pauseReading('queue');
        seen.conn.pauseReading('handshake');
        setImmediate(() => {
          seen.conn.resumeReading('queue');
          expect(seen.conn.readingPaused).toBe(true);
          setImmediate(() => seen.conn.resumeReading('handshake'));
        });
      },
    });
    const client = await harness.client();
    const seen = await harness.accepted(0);
    const payload = Array.from({ length: count }, (_, n) => line({ n })).join('');
    client.write(payload);
    await until(() => seen.packets.length === count);
    expect(seen.packets).toEqual(Array.from({ length: count }, (_, n) => ({ n })));
  });

  it('holds lines while paused and releases them on resume', async () => {
    harness = await startHarness();
    const client = await harness.client();
    const seen = await harness.accepted(0);
    seen.conn.pauseReading('queue');
    client.write('{"n":1}\n{"n":2}\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.packets).toEqual([]);
    seen.conn.resumeReading('queue');
    await until(() => seen.packets.length === 2);
    expect(seen.packets).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

describe('Connection output and close', () => {
  it('closes a client that stops reading once pending output passes the bound', async () => {
    const maxPendingOutputBytes = 1024 * 1024;
    harness = await startHarness({ connection: { maxPendingOutputBytes } });
    const client = await harness.client();
    client.pause();
    const seen = await harness.accepted(0);
    const chunk = line({ text: '가'.repeat(20_000) });
    let written = 0;
    while (!seen.conn.isClosing && written < 512 * 1024 * 1024) {
      seen.conn.write(chunk);
      written += Buffer.byteLength(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const { reason, detail } = await seen.closed;
    expect(reason).toBe('BRIDGE_ERR_OUTPUT_OVERFLOW');
    const pending = Number(/(\d+) bytes pending/.exec(detail ?? '')?.[1]);
    expect(pending).toBeGreaterThan(maxPendingOutputBytes);
    expect(detail).toContain(`(limit ${maxPendingOutputBytes})`);
  });

  it('does not close a client that keeps reading the same volume', async () => {
    harness = await startHarness({ connection: { maxPendingOutputBytes: 1024 * 1024 } });
    const client = await harness.client();
    const received = clientClosed(client);
    const seen = await harness.accepted(0);
    const chunk = line({ text: '가'.repeat(20_000) });
    const total = 400;
    for (let i = 0; i < total; i += 1) {
      expect(seen.conn.write(chunk)).toBe(true);
      await seen.conn.flush(5_000);
    }
    seen.conn.close('done');
    const { data } = await received;
    expect(data.length).toBe(total * Buffer.byteLength(chunk));
    expect((await seen.closed).reason).toBe('done');
  });

  it('flushes queued writes before the socket ends on close()', async () => {
    harness = await startHarness({ connection: { closeGraceMs: 30_000, maxPendingOutputBytes: 256 * 1024 * 1024 } });
    const client = await harness.client();
    client.pause();
    const received = clientClosed(client);
    const seen = await harness.accepted(0);
    const chunk = line({ text: 'z'.repeat(1024 * 1024) });
    const count = 24;
    for (let i = 0; i < count; i += 1) seen.conn.write(chunk);
    // More than the kernel buffers hold: close() must not lose what is still queued in Node.
    expect(seen.conn.pendingOutputBytes).toBeGreaterThan(0);
    seen.conn.close('BRIDGE_ERR_REPLACED');
    seen.conn.close('second-reason');
    expect(seen.conn.write('{"late":true}\n')).toBe(false);
    client.resume();
    const { data, ended } = await received;
    expect(ended).toBe(true);
    expect(data.length).toBe(count * Buffer.byteLength(chunk));
    expect(await seen.closed).toEqual({ reason: 'BRIDGE_ERR_REPLACED', detail: undefined });
    expect(seen.closeCalls).toBe(1);
  });

  it('flush() resolves once pending output drained', async () => {
    harness = await startHarness({ connection: { maxPendingOutputBytes: 256 * 1024 * 1024 } });
    const client = await harness.client();
    client.pause();
    let bytes = 0;
    client.on('data', (d: Buffer) => (bytes += d.length));
    const seen = await harness.accepted(0);
    const chunk = line({ text: 'q'.repeat(1024 * 1024) });
    for (let i = 0; i < 16; i += 1) seen.conn.write(chunk);
    expect(seen.conn.pendingOutputBytes).toBeGreaterThan(0);
    expect(await seen.conn.flush(10)).toBe(false);
    const flushed = seen.conn.flush(30_000);
    client.resume();
    expect(await flushed).toBe(true);
    expect(seen.conn.pendingOutputBytes).toBe(0);
    expect(bytes).toBeGreaterThan(0);
  });

  it('reports a client close as client-closed, exactly once', async () => {
    harness = await startHarness();
    const client = await harness.client();
    const seen = await harness.accepted(0);
    client.end('{"last":1}\n');
    expect(await seen.closed).toEqual({ reason: 'client-closed', detail: undefined });
    expect(seen.packets).toEqual([{ last: 1 }]);
    seen.conn.close('after');
    expect(seen.closeCalls).toBe(1);
  });

  it('survives ECONNRESET and writes into a reset socket', async () => {
    harness = await startHarness();
    const client = await harness.client();
    const seen = await harness.accepted(0);
    client.write('{"partial":');
    await until(() => seen.conn.info().remotePort > 0);
    client.resetAndDestroy();
    const { reason, detail } = await seen.closed;
    // Node reports a reset seen by a read as EOF and one seen by a write as an error.
    expect(['socket-error', 'client-closed']).toContain(reason);
    if (reason === 'socket-error') expect(detail).toBe('ECONNRESET');
    expect(seen.conn.write('{"after":"reset"}\n')).toBe(false);
    expect(seen.closeCalls).toBe(1);
  });

  it('gets EPIPE/ECONNRESET on write to a vanished peer without throwing', async () => {
    harness = await startHarness({ connection: { maxPendingOutputBytes: 256 * 1024 * 1024 } });
    const client = await harness.client();
    const seen = await harness.accepted(0);
    client.resetAndDestroy();
    const chunk = line({ text: 'w'.repeat(64 * 1024) });
    while (!seen.conn.isClosing) {
      seen.conn.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(['socket-error', 'client-closed']).toContain((await seen.closed).reason);
  });
});
