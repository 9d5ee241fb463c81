import { afterEach, describe, expect, it, vi } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { createTestBridge, type TestBridge } from '@botbridge/testing';
import { ReplyPath, type ReplyTicket, type TicketSettlement } from '../../core/src/outbound/reply-path.js';
import { ReplySequencer, type Ticket } from '../../core/src/outbound/reply-sequencer.js';

/**
 * One reply ticket per admitted message, finished exactly once: on a normal end, on a
 * processing timeout (released at the abort, not again by the job's `finally`), and at
 * shutdown (running jobs aborted, queued ones abandoned). Observed on the real classes of a
 * real bridge over TCP: the sequencer's order is released once per ticket.
 */

let bridges: TestBridge[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(bridges.map((b) => b.close()));
  bridges = [];
});

function spyTickets() {
  const open = vi.spyOn(ReplySequencer.prototype, 'open');
  const finish = vi.spyOn(ReplySequencer.prototype, 'finish');
  const opened = vi.spyOn(ReplyPath.prototype, 'open');
  const finishesOf = (ticket: Ticket) => finish.mock.calls.filter(([t]) => t === ticket).length;
  return {
    /** Tickets of the sequencer, in open order. */
    tickets: () => open.mock.results.map((r) => r.value as Ticket),
    finishesOf,
    /** Each ReplyPath ticket with its settlement (asked now; resolves once finished and delivered). */
    settlements: (): Promise<TicketSettlement[]> =>
      Promise.all(opened.mock.results.map((r, i) => (opened.mock.contexts[i] as ReplyPath).settled(r.value as ReplyTicket))),
  };
}

describe('reply tickets', () => {
  it('finishes each ticket once: normal end, timeout (released at the abort), and the room goes on', async () => {
    const spy = spyTickets();
    const plugin = definePlugin({
      name: 'tickets',
      setup(ctx) {
        ctx.onMessage(async ({ message }) => (message.text === 'hang' ? new Promise<string>(() => undefined) : `ok ${message.text}`));
      },
    });
    const t = await createTestBridge({ plugins: [plugin], config: { pipeline: { processingTimeoutMs: 200, replyHoldMs: 10_000, replyGapMs: 0 } } });
    bridges.push(t);
    const phone = await t.client();
    phone.analyze('a');
    phone.analyze('hang');
    phone.analyze('b');
    // 'b' would wait the 10 s hold behind 'hang' unless the timeout released its ticket.
    expect((await phone.waitForReplies(2, 5_000)).map((r) => r.text)).toEqual(['ok a', 'ok b']);
    expect(t.bridge.admin.counters.get('jobs', 'timed_out')).toBe(1);
    const tickets = spy.tickets();
    expect(tickets).toHaveLength(3);
    expect(tickets.map(spy.finishesOf)).toEqual([1, 1, 1]);
    const settled = await spy.settlements();
    expect(settled.map((s) => s.processed)).toEqual([true, true, true]);
  });

  it('finishes each ticket once at shutdown: the running job aborted, queued jobs abandoned', async () => {
    const spy = spyTickets();
    let stuckStarted!: () => void;
    const started = new Promise<void>((resolve) => (stuckStarted = resolve));
    const plugin = definePlugin({
      name: 'stuck',
      setup(ctx) {
        ctx.onMessage(() => {
          stuckStarted();
          return new Promise<undefined>(() => undefined);
        });
      },
    });
    const t = await createTestBridge({
      plugins: [plugin],
      config: { pipeline: { concurrency: { perRoom: 1 } }, shutdown: { graceMs: 100 } },
    });
    bridges.push(t);
    const phone = await t.client();
    phone.analyze('running');
    await started;
    phone.analyze('queued 1');
    phone.analyze('queued 2');
    await vi.waitFor(() => expect(spy.tickets()).toHaveLength(3));
    const settlements = spy.settlements();
    await t.close();
    expect(spy.tickets().map(spy.finishesOf)).toEqual([1, 1, 1]);
    // The running job was aborted before it replied: unprocessed too, so the journal keeps all three.
    expect((await settlements).map((s) => s.processed)).toEqual([false, false, false]);
    const counters = t.bridge.admin.counters;
    expect(counters.get('jobs', 'abandoned_at_shutdown') + counters.get('jobs', 'kept_for_replay')).toBe(3);
  });
});
