import { describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { counter, eventually, sleep, useBridges } from './helpers.js';

const { bridge, connect } = useBridges();

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
});
