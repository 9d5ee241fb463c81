import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { counter, eventually, sleep, useBridges } from './helpers.js';

const { bridge, connect, tempDir } = useBridges();

/** Replies once the test opens the gate; records what it was asked. */
function gatedReplies() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const seen: string[] = [];
  const plugin = definePlugin({
    name: 'gated',
    setup(ctx) {
      ctx.onMessage(async ({ message }) => {
        seen.push(message.text);
        await gate;
        return `답: ${message.text}`;
      });
    },
  });
  return { plugin, open, seen };
}

describe('close() drains', () => {
  it('a job that ends during the drain returns its credit without resuming reading: no handler-error, its reply is written', async () => {
    const gated = gatedReplies();
    // One message per connection in the pipeline: the phone's next lines wait, held, behind its credit.
    const t = await bridge({ plugins: [gated.plugin], config: { limits: { maxQueuedPerConnection: 1 }, shutdown: { graceMs: 5_000 } } });
    const reasons: string[] = [];
    t.bridge.events.scope().subscribe('connection:close', (e) => void reasons.push(e.reason));
    const phone = await connect(t);
    await phone.handshake;
    phone.analyze('하나');
    await eventually('the first message runs', () => gated.seen.length === 1);
    phone.analyze('둘');
    phone.analyze('셋');
    // Let them reach the server (held in the connection's splitter, not admitted).
    await sleep(100);
    expect(t.bridge.stats().dispatcher.totals.pushed).toBe(1);

    // Without the 'shutdown' read hold, the credit this job returns resumes reading before the
    // dispatcher closes (or after: a handler error that closed the socket, losing the reply).
    const closed = t.bridge.close();
    // The phone keeps talking while the bridge drains.
    phone.analyze('넷');
    gated.open();
    expect((await phone.nextReply(5_000)).text).toBe('답: 하나');
    await closed;
    await phone.closed;

    await eventually('the server side of the socket closed', () => reasons.length === 1);
    expect(reasons).toEqual(['BRIDGE_ERR_SHUTDOWN']);
    expect(gated.seen).toEqual(['하나']);
    expect(phone.replies.map((r) => r.text)).toEqual(['답: 하나']);
    expect(counter(t, 'replies', 'rejected')).toBe(0);
    expect(counter(t, 'disconnects', 'handler-error')).toBe(0);
  });

  it('closes each connection once its own work is done: an idle phone at once, a busy one after its reply is written', async () => {
    const gated = gatedReplies();
    const t = await bridge({ plugins: [gated.plugin], config: { shutdown: { graceMs: 10_000 } } });
    const closes: string[] = [];
    t.bridge.events.scope().subscribe('connection:close', (e) => void closes.push(e.deviceId ?? '?'));
    const busy = await connect(t, { deviceId: 'b000000000000001' });
    const idle = await connect(t, { deviceId: 'b000000000000002' });
    await Promise.all([busy.handshake, idle.handshake]);
    busy.analyze('하나');
    await eventually('the busy phone message runs', () => gated.seen.length === 1);

    const closed = t.bridge.close();
    // The idle phone sees EOF while the busy phone's message is still running (the gate is shut).
    await idle.closed;
    // The server's socket closes once the phone's FIN is back.
    await eventually('the idle phone close is seen', () => closes.length === 1);
    expect(busy.closeReason).toBeNull();
    expect(closes).toEqual(['b000000000000002']);
    expect(gated.seen).toEqual(['하나']);
    expect(t.bridge.lifecycle).toBe('closing');

    gated.open();
    await busy.closed;
    // Its reply was written before its close, and it closed before the bridge finished closing.
    expect(busy.replies.map((r) => r.text)).toEqual(['답: 하나']);
    await eventually('the busy phone close is seen', () => closes.length === 2);
    expect(closes).toEqual(['b000000000000002', 'b000000000000001']);
    await closed;
    expect(counter(t, 'disconnects', 'BRIDGE_ERR_SHUTDOWN')).toBe(2);
    expect(counter(t, 'replies', 'written')).toBe(1);
  });

  it('a reply for a device the drain already closed is queued in the outbox and stored before the store closes', async () => {
    const gated = gatedReplies();
    const file = join(await tempDir(), 'drain.db');
    const t = await bridge({ plugins: [gated.plugin], config: { store: { url: `sqlite:${file}` }, shutdown: { graceMs: 10_000 } } });
    const busy = await connect(t, { deviceId: 'b000000000000001' });
    const other = await connect(t, { botName: 'other', deviceId: 'c000000000000001' });
    await Promise.all([busy.handshake, other.handshake]);
    busy.analyze('하나');
    await eventually('the busy phone message runs', () => gated.seen.length === 1);

    const closed = t.bridge.close();
    await other.closed;
    // The bridge is still draining (the busy phone's message runs): a send to the closed device is kept.
    const result = await t.bridge.send({ botName: 'other', room: '방', channelId: '1', deviceId: 'c000000000000001' }, '나중에');
    expect(result).toMatchObject({ status: 'queued' });
    gated.open();
    await closed;
    expect(busy.replies.map((r) => r.text)).toEqual(['답: 하나']);

    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT bot_name, room_name, reply FROM botbridge_outbox').all() as { bot_name: string; room_name: string; reply: string }[];
      expect(rows).toEqual([{ bot_name: 'other', room_name: '방', reply: JSON.stringify({ kind: 'text', text: '나중에' }) }]);
    } finally {
      db.close();
    }
  });
});
