import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { OutboxEntry, Store } from '../../src/store/types.js';
import { materialiseStoreSpec, testStoreSpecs, uniqueBotName } from './test-stores.js';

/**
 * The outbox's queries against the real stores (a SQLite file; MariaDB with
 * BOTBRIDGE_TEST_STORE): queue order per room, expiry by time and batch, room counts.
 */

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

describe.each(testStoreSpecs())('outbox queries on %s', (spec) => {
  async function setup(): Promise<{ store: Store; botName: string }> {
    const location = await materialiseStoreSpec(spec);
    const store = await openStore(location.url);
    cleanups.push(async () => {
      await store.close();
      await location.cleanup();
    });
    return { store, botName: uniqueBotName() };
  }

  const base = Date.parse('2026-12-06T10:00:00.000Z');
  function entry(botName: string, roomKey: string, text: string, expiresInMs: number, at = base): OutboxEntry {
    return {
      botName, roomKey, room: `방 ${roomKey}`, channelId: roomKey.startsWith('name:') ? null : roomKey, deviceId: null,
      reply: JSON.stringify({ kind: 'text', text }), traceId: `t-${text}`, index: 0,
      queuedAt: new Date(at), expiresAt: new Date(at + expiresInMs),
    };
  }

  it('reads a room\'s rows in queue order, bounded, with every field back', async () => {
    const { store, botName } = await setup();
    for (const text of ['하나', '둘', '셋']) await store.insertOutbox(entry(botName, '100', text, 60_000));
    await store.insertOutbox(entry(botName, 'name:다른방', '다른', 60_000));
    const rows = await store.outboxOfRoom(botName, '100', 2);
    expect(rows.map((r) => JSON.parse(r.reply).text)).toEqual(['하나', '둘']);
    expect(rows[0]).toMatchObject({ botName, roomKey: '100', room: '방 100', channelId: '100', deviceId: null, traceId: 't-하나', index: 0 });
    expect(rows[0]!.queuedAt.getTime()).toBe(base);
    expect(rows[0]!.expiresAt.getTime()).toBe(base + 60_000);
    expect(rows[0]!.id).toBeLessThan(rows[1]!.id);
    const rooms = await store.outboxRooms();
    expect(rooms.filter((r) => r.botName === botName).sort((a, b) => a.roomKey.localeCompare(b.roomKey))).toEqual([
      { botName, roomKey: '100', queued: 3 },
      { botName, roomKey: 'name:다른방', queued: 1 },
    ]);
  });

  it('finds expired rows of a room up to a limit, and deletes by id', async () => {
    const { store, botName } = await setup();
    await store.insertOutbox(entry(botName, '7', 'old-1', 1_000));
    await store.insertOutbox(entry(botName, '7', 'old-2', 1_000));
    await store.insertOutbox(entry(botName, '7', 'fresh', 600_000));
    const now = new Date(base + 5_000);
    expect((await store.outboxRoomsWithExpired(now, 10)).filter((r) => r.botName === botName)).toEqual([{ botName, roomKey: '7' }]);
    expect((await store.outboxRoomsWithExpired(new Date(base), 10)).filter((r) => r.botName === botName)).toEqual([]);
    const first = await store.expiredOutbox(botName, '7', now, 1);
    expect(first.map((r) => r.traceId)).toEqual(['t-old-1']);
    const all = await store.expiredOutbox(botName, '7', now, 10);
    expect(all.map((r) => r.traceId)).toEqual(['t-old-1', 't-old-2']);
    expect(all[0]!.room).toBe('방 7');
    expect(await store.deleteOutbox(all.map((r) => r.id))).toBe(2);
    expect(await store.deleteOutbox([])).toBe(0);
    expect((await store.outboxOfRoom(botName, '7', 10)).map((r) => r.traceId)).toEqual(['t-fresh']);
  });
});
