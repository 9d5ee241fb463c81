import type { OutgoingReply } from '@botbridge/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events/bridge-events.js';
import { createLogger } from '../../src/logger.js';
import { Counters } from '../../src/metrics/counters.js';
import { Outbox } from '../../src/outbound/outbox.js';
import type { OutboxEntry, OutboxRow, Store } from '../../src/store/types.js';

/**
 * The outbox's ordering and bookkeeping with a store kept in memory, so the interleavings that
 * matter (a reply queued while a backlog is being delivered, a failed insert, expiry against
 * a clock) are set up exactly. The real stores are covered in core/test/store/outbox-store.test.ts
 * and test/pipeline/outbox.test.ts.
 */

class MemoryOutbox {
  rows: OutboxRow[] = [];
  nextId = 1;
  failInserts = false;
  async insertOutbox(entry: OutboxEntry): Promise<number> {
    await Promise.resolve();
    if (this.failInserts) throw new Error('store down');
    const id = this.nextId++;
    this.rows.push({ ...entry, id });
    return id;
  }
  async outboxOfRoom(botName: string, roomKey: string, limit: number): Promise<OutboxRow[]> {
    return this.rows.filter((r) => r.botName === botName && r.roomKey === roomKey).slice(0, limit);
  }
  async expiredOutbox(botName: string, roomKey: string, now: Date, limit: number) {
    return this.rows.filter((r) => r.botName === botName && r.roomKey === roomKey && r.expiresAt <= now).slice(0, limit)
      .map((r) => ({ id: r.id, traceId: r.traceId, room: r.room }));
  }
  async outboxRoomsWithExpired(now: Date) {
    const keys = new Map<string, { botName: string; roomKey: string }>();
    for (const r of this.rows) if (r.expiresAt <= now) keys.set(`${r.botName}/${r.roomKey}`, { botName: r.botName, roomKey: r.roomKey });
    return [...keys.values()];
  }
  async deleteOutbox(ids: readonly number[]): Promise<number> {
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => !ids.includes(r.id));
    return before - this.rows.length;
  }
  async outboxRooms() {
    return [];
  }
}

const BOT = 'bot';
const reply = (text: string, traceId = `t-${text}`): OutgoingReply => ({
  reply: { kind: 'text', text },
  target: { botName: BOT, room: '방', channelId: '1' },
  message: null,
  traceId,
  index: 0,
});

let outboxes: Outbox[] = [];
afterEach(async () => {
  for (const o of outboxes) await o.close();
  outboxes = [];
});

function setup() {
  const memory = new MemoryOutbox();
  const counters = new Counters();
  const events = new EventBus(counters);
  const written: string[] = [];
  let online = false;
  let gate: Promise<void> = Promise.resolve();
  let clock = Date.parse('2026-12-06T10:00:00Z');
  const outbox = new Outbox({
    store: () => memory as unknown as Store,
    events,
    log: createLogger({ level: 'silent' }),
    ttlMs: () => 60_000,
    gapMs: () => 0,
    sweepIntervalMs: 60_000,
    sweepBatchSize: 100,
    hasApprovedDevice: () => true,
    canDeliver: () => online,
    write: async (out) => {
      await gate;
      if (!online) return false;
      written.push(out.reply.kind === 'text' ? out.reply.text : 'media');
      return true;
    },
    now: () => clock,
  });
  outboxes.push(outbox);
  return {
    memory, counters, outbox, written,
    goOnline: () => void (online = true),
    hold: () => {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      return open;
    },
    advance: (ms: number) => void (clock += ms),
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(check()).toBe(true);
}

describe('Outbox', () => {
  it('answers queued once stored, and delivers a room\'s backlog in order when a device is back', async () => {
    const { outbox, memory, written, goOnline } = setup();
    await outbox.start();
    const results = await Promise.all(['a', 'b', 'c'].map((t) => outbox.enqueue(reply(t))));
    expect(results.map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);
    expect(memory.rows.map((r) => JSON.parse(r.reply).text)).toEqual(['a', 'b', 'c']);
    expect(outbox.holds(reply('x').target)).toBe(true);
    expect(outbox.stats()).toEqual({ queued: 3, rooms: 1 });
    goOnline();
    outbox.deliverBot(BOT);
    await until(() => written.length === 3);
    expect(written).toEqual(['a', 'b', 'c']);
    await until(() => outbox.stats().queued === 0);
    expect(memory.rows).toEqual([]);
    expect(outbox.holds(reply('x').target)).toBe(false);
  });

  it('queues a reply that arrives during the backlog\'s delivery behind it, and delivers it after', async () => {
    const { outbox, written, goOnline, hold } = setup();
    await outbox.start();
    await Promise.all(['a', 'b'].map((t) => outbox.enqueue(reply(t))));
    const open = hold();
    goOnline();
    outbox.deliverBot(BOT);
    // The delivery is stuck in its first write; a newer reply of the room must not overtake it.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(outbox.holds(reply('new').target)).toBe(true);
    const late = outbox.enqueue(reply('new'));
    open();
    expect((await late).status).toBe('queued');
    await until(() => written.length === 3);
    expect(written).toEqual(['a', 'b', 'new']);
    await until(() => outbox.stats().queued === 0);
  });

  it('rejects no_client when the store cannot keep the reply, and forgets it', async () => {
    const { outbox, memory } = setup();
    await outbox.start();
    memory.failInserts = true;
    expect(await outbox.enqueue(reply('lost'))).toEqual({ status: 'rejected', traceId: 't-lost', reason: 'no_client' });
    expect(outbox.stats()).toEqual({ queued: 0, rooms: 0 });
    expect(outbox.holds(reply('x').target)).toBe(false);
  });

  it('expires rows past their TTL on a sweep, once each, counted replies{expired}', async () => {
    const { outbox, memory, counters, advance, written, goOnline } = setup();
    await outbox.start();
    await outbox.enqueue(reply('old'));
    advance(30_000);
    await outbox.enqueue(reply('newer'));
    advance(31_000);
    expect(await outbox.sweep()).toBe(1);
    expect(counters.get('replies', 'expired')).toBe(1);
    expect(memory.rows.map((r) => r.traceId)).toEqual(['t-newer']);
    expect(await outbox.sweep()).toBe(0);
    goOnline();
    outbox.deliverBot(BOT);
    await until(() => written.length === 1);
    expect(written).toEqual(['newer']);
    expect(counters.get('replies', 'expired')).toBe(1);
  });
});
