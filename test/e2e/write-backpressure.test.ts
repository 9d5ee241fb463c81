import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { usePlugin } from '@botbridge/sdk';
import { chatLog } from '@botbridge/plugin-chat-log';
import { BridgeError, createBridge, createLogger, openStore, type Bridge, type Store } from '@botbridge/core';
import { createTestDatabase } from '@botbridge/core/test-support';
import { FakeBridgeClient } from '@botbridge/testing';
import { mysqlTestServer, openInspector } from '../../core/test/store/test-stores.js';
import { echoPlugin, eventually } from './helpers.js';

/**
 * The chat-log writer never drops rows because the store is slow: a full buffer pauses reading
 * from phones until the store catches up. Only while the store is down do rows spill and then
 * drop, counted and logged at most once per interval, and phones are still answered. Runs on a
 * real SQLite file and, with BOTBRIDGE_TEST_STORE=mysql://..., on a fresh MariaDB database.
 * The store's chat-log inserts pass through a gate (slow: they wait; down: they fail as an
 * unreachable database would); everything else reaches the real store unchanged.
 */

type Mode = 'open' | 'slow' | 'down';
interface GatedStore extends Store {
  mode: Mode;
  /** Lets the chat-log writes held while `slow` through and switches to `open`. */
  release(): void;
}

function gatedStore(inner: Store): GatedStore {
  let waiting: (() => void)[] = [];
  const gated = { mode: 'open', dialect: inner.dialect, description: inner.description } as GatedStore;
  for (const key of Object.getOwnPropertyNames(Object.getPrototypeOf(inner)) as (keyof Store)[]) {
    const value = inner[key];
    if (typeof value === 'function' && key !== ('constructor' as keyof Store)) Object.assign(gated, { [key]: value.bind(inner) });
  }
  gated.release = () => {
    gated.mode = 'open';
    for (const resume of waiting.splice(0)) resume();
  };
  gated.insertChatLogs = async (rows) => {
    if (gated.mode === 'slow') await new Promise<void>((resolve) => waiting.push(resolve));
    if (gated.mode === 'down') throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: 'test outage' });
    return inner.insertChatLogs(rows);
  };
  return gated;
}

const STORES = ['sqlite', ...(mysqlTestServer() === undefined ? [] : ['mysql'])];
const CHANNEL = '18445682959392711';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

function logSink() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info' }, sink) };
}

async function storeUrl(kind: string): Promise<string> {
  if (kind === 'mysql') {
    const database = await createTestDatabase(mysqlTestServer()!);
    cleanups.push(() => database.drop());
    return database.url;
  }
  const dir = await mkdtemp(join(tmpdir(), 'botbridge-writes-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'bridge.db')}`;
}

async function started(kind: string, store: Record<string, number>) {
  const url = await storeUrl(kind);
  const inner = await openStore(url);
  cleanups.push(() => inner.close());
  const gated = gatedStore(inner);
  const { lines, logger } = logSink();
  const bridge: Bridge = createBridge({
    store: gated,
    logger,
    config: {
      listen: { host: '127.0.0.1', port: 0 },
      approval: { autoApprove: true, refreshIntervalMs: 50, staleAfterMs: 60_000 },
      store: { url, ...store },
      plugins: [echoPlugin, usePlugin(chatLog, {})],
    },
  });
  const { port } = await bridge.start();
  cleanups.push(() => bridge.close());
  // Runs before the close above: a write still held would keep the final flush waiting.
  cleanups.push(async () => gated.release());
  const phone = await FakeBridgeClient.connect({ port, deviceId: 'phone-a' });
  cleanups.push(() => phone.close());
  await phone.handshake;
  const inspector = openInspector(url);
  cleanups.push(() => inspector.destroy());
  const chatRows = async () => {
    const result = await sql<{ n: number | string }>`select count(*) as n from kb_chat_logs`.execute(inspector);
    return Number(result.rows[0]!.n);
  };
  return { bridge, gated, phone, lines, chatRows };
}

const send = (phone: FakeBridgeClient, from: number, count: number) => {
  for (let i = from; i < from + count; i += 1) phone.analyze({ text: `m${i}`, channelId: CHANNEL });
};
const dropped = (bridge: Bridge) => bridge.admin.counters.get('store_writes_dropped', 'chat_log');

describe.each(STORES)('chat-log writes on %s', { timeout: 60_000 }, (kind) => {
  it('a slow store pauses reading instead of dropping: every message answered, every row written', async () => {
    const { bridge, gated, phone, chatRows } = await started(kind, { writeBufferLimit: 50, chatLogBatchSize: 20 });
    gated.mode = 'slow';
    send(phone, 0, 200);
    // 400 rows (received + reply) against a buffer of 50: the writer asks for backpressure.
    await eventually('reads paused for the writes', () => bridge.stats().writesSaturated && bridge.stats().saturated);
    expect(bridge.admin.counters.get('store_write_saturation', 'paused')).toBe(1);
    // A second wave, sent once reading is paused, stays in the socket while the store is behind.
    send(phone, 200, 100);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(phone.replies.length).toBeLessThanOrEqual(200);
    expect(bridge.stats().writesSaturated).toBe(true);

    gated.release();
    const replies = await phone.waitForReplies(300, 20_000);
    expect(replies.map((r) => r.text)).toEqual(Array.from({ length: 300 }, (_, i) => `에코: m${i}`));
    await eventually('all rows written', async () => (await chatRows()) === 600, 10_000);
    expect(bridge.admin.counters.get('store_write_saturation', 'resumed')).toBeGreaterThanOrEqual(1);
    expect(bridge.stats().writesSaturated).toBe(false);
    expect(bridge.admin.counters.total('store_writes_dropped')).toBe(0);
    expect(phone.closeReason).toBeNull();
  });

  it('a store down past the spill bound: rows dropped, counted, logged once per interval; phones answered', async () => {
    const { bridge, gated, phone, lines, chatRows } = await started(kind, { writeBufferLimit: 20, writeSpillLimit: 30, chatLogBatchSize: 10 });
    gated.mode = 'down';
    await phone.shouldReply({ text: 'first', channelId: CHANNEL }, '에코: first');
    await eventually('the writer found the store down', () => bridge.admin.counters.get('store_errors', 'chat_log') > 0);
    send(phone, 0, 99);
    expect(await phone.waitForReplies(99, 20_000)).toHaveLength(99);
    await eventually('rows dropped past the spill bound', () => dropped(bridge) + bridge.stats().writers.chatLog === 200);
    expect(bridge.stats().writers.chatLog).toBe(50);
    expect(bridge.stats().writesSaturated).toBe(false);
    const dropLines = () => lines.filter((l) => l.msg === 'store rows dropped' && l.writer === 'chat_log');
    // The first drop is logged at once; the rest of the 10 s interval's drops wait for its end.
    expect(dropLines()).toHaveLength(1);
    expect(dropLines()[0]).toMatchObject({ level: 50, dropped: 1, reason: 'store down and spill buffer full' });

    // The store answers again: what spilled is written, nothing more is lost.
    gated.release();
    await eventually('spilled rows written', async () => (await chatRows()) === 50);
    await phone.shouldReply({ text: 'after', channelId: CHANNEL }, '에코: after');
    await eventually('the new rows written', async () => (await chatRows()) === 52);
    expect(dropped(bridge)).toBe(150);
    await bridge.close();
    expect(dropLines()).toHaveLength(2);
    expect(dropLines().reduce((sum, l) => sum + (l.dropped as number), 0)).toBe(150);
  });
});
