import type { ChatMessage } from '@botbridge/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { createLogger } from '../../src/logger.js';
import { EventBus } from '../../src/events/bridge-events.js';
import { Counters } from '../../src/metrics/counters.js';
import { Deduplicator } from '../../src/pipeline/dedup.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { materialiseStoreSpec, testStoreSpecs, uniqueBotName } from '../store/test-stores.js';

/**
 * The journal against the real stores (a SQLite file; MariaDB with BOTBRIDGE_TEST_STORE):
 * group commit, done marks, restart dedup seeding, expiry and bounded pruning.
 */

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

const silent = createLogger({ level: 'silent' });

function message(botName: string, logId: string | null, receivedAt = Date.now(), channelId: string | null = '42'): ChatMessage {
  return {
    id: `${botName}/${channelId ?? ''}/${logId}`, traceId: `t-${logId}`, botName, deviceId: 'dev-1', room: '방', channelId, logId,
    text: `안녕 ${logId}`, sender: '보낸이', userHash: 'abcd', isGroupChat: true, isMention: false, clientTimestamp: '2026-12-06 10:00:00',
    receivedAt, legacy: false,
  };
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.each(testStoreSpecs())('journal on %s', (spec) => {
  async function setup(options: { commitIntervalMs?: number; retentionMs?: number; pruneBatchSize?: number } = {}) {
    const location = await materialiseStoreSpec(spec);
    const store: Store = await openStore(location.url);
    cleanups.push(async () => {
      await store.close();
      await location.cleanup();
    });
    const counters = new Counters();
    const journal = new Journal({
      store: () => store,
      commitIntervalMs: options.commitIntervalMs ?? 20,
      bufferLimit: 10_000,
      retentionMs: options.retentionMs ?? 60_000,
      pruneIntervalMs: 60_000,
      pruneBatchSize: options.pruneBatchSize ?? 1_000,
      events: new EventBus(counters),
      log: silent,
    });
    cleanups.push(() => journal.close());
    return { store, counters, journal, botName: uniqueBotName() };
  }

  it('writes the admissions of one window in one commit, then their done marks in the next', async () => {
    const { store, counters, journal, botName } = await setup();
    const keys = Array.from({ length: 50 }, (_, i) => journal.record(message(botName, String(1000 + i)), '42')!);
    expect(counters.get('journal_commits')).toBe(0);
    await waitFor(() => counters.get('journal_commits') === 1 && journal.pending() === 0);
    expect(counters.get('journal_rows', 'admitted')).toBe(50);
    const pending = await store.journalPending(1_000);
    expect(pending.map((e) => e.logId)).toEqual(keys.map((k) => k.logId));
    expect(pending[0]).toMatchObject({ botName, channelId: '42', room: '방', text: '안녕 1000', sender: '보낸이', userHash: 'abcd', isGroupChat: true, clientTimestamp: '2026-12-06 10:00:00' });

    for (const key of keys.slice(0, 30)) journal.markDone(key);
    await waitFor(() => counters.get('journal_commits') === 2 && journal.pending() === 0);
    expect(counters.get('journal_rows', 'done')).toBe(30);
    expect((await store.journalPending(1_000)).map((e) => e.logId)).toEqual(keys.slice(30).map((k) => k.logId));
  });

  it('writes a message done within its own window as done, and journals no line without logId', async () => {
    const { store, counters, journal, botName } = await setup();
    const key = journal.record(message(botName, '7'), '42')!;
    journal.markDone(key);
    expect(journal.record(message(botName, null), '42')).toBeNull();
    await journal.flush();
    expect(counters.get('journal_commits')).toBe(1);
    expect(await store.journalPending(10)).toEqual([]);
    expect((await store.journalKeysSince(new Date(Date.now() - 60_000), 10)).map((k) => k.logId)).toEqual(['7']);
  });

  it('keeps a row a shutdown cut short unfinished, for the next start', async () => {
    const { store, journal, botName } = await setup();
    const key = journal.record(message(botName, '8', Date.now(), null), 'name:방')!;
    await journal.flush();
    journal.keep(key);
    journal.markDone(key);
    await journal.flush();
    expect((await store.journalPending(10)).map((e) => [e.logId, e.channelId])).toEqual([['8', '']]);
  });

  it('seeds a new deduplicator with the keys of the dedup window (the restart case)', async () => {
    const { journal, botName } = await setup();
    journal.record(message(botName, '1', Date.now() - 120_000), '42');
    journal.record(message(botName, '2', Date.now() - 1_000), '42');
    journal.record(message(botName, '3', Date.now() - 1_000, null), 'name:방');
    await journal.flush();
    const dedup = new Deduplicator({ windowMs: 60_000, legacyTwinWindowMs: 5_000, maxEntries: 100 });
    expect(await journal.seedDedup(dedup, 60_000, 100)).toBe(2);
    const check = (logId: string, channelId: string | null) => dedup.check({ botName, channelId, logId, room: '방', sender: 's', text: `x${logId}` });
    expect(check('2', '42')).toBe('duplicate');
    expect(check('3', null)).toBe('duplicate');
    expect(check('1', '42')).toBe('new');
  });

  it('expires rows too old to replay and prunes past retention in bounded batches', async () => {
    const { store, journal, botName } = await setup({ retentionMs: 60_000, pruneBatchSize: 3 });
    for (let i = 0; i < 7; i += 1) journal.record(message(botName, `old${i}`, Date.now() - 120_000), '42');
    journal.record(message(botName, 'new', Date.now() - 1_000), '42');
    await journal.flush();
    expect(await store.expireJournal(new Date(Date.now() - 60_000))).toBe(7);
    expect((await store.journalPending(10)).map((e) => e.logId)).toEqual(['new']);
    expect(await store.pruneJournal(new Date(Date.now() - 60_000), 3)).toBe(3);
    expect(await journal.prune()).toBe(4);
    expect((await store.journalKeysSince(new Date(0), 100)).map((k) => k.logId)).toEqual(['new']);
  });
});

describe('journal on sqlite::memory: (commits on the event loop, as on MariaDB)', () => {
  it('group-commits admissions and done marks in Kysely transactions', async () => {
    const store = await openStore('sqlite::memory:');
    cleanups.push(() => store.close());
    const counters = new Counters();
    const journal = new Journal({
      store: () => store, commitIntervalMs: 5, bufferLimit: 100, retentionMs: 60_000, pruneIntervalMs: 60_000, pruneBatchSize: 100, events: new EventBus(counters), log: silent,
    });
    cleanups.push(() => journal.close());
    const keys = [1, 2, 3].map((i) => journal.record(message('mem-bot', String(i)), '42')!);
    await journal.flush();
    journal.markDone(keys[1]!);
    await journal.flush();
    expect(counters.get('journal_commits')).toBe(2);
    expect((await store.journalPending(10)).map((e) => e.logId)).toEqual(['1', '3']);
  });
});
