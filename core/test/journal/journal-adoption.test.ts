import type { ChatMessage } from '@botbridge/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { JournalAdoption } from '../../src/journal/journal-adoption.js';
import { AdmittedMemory, admissionToWire } from '../../src/cluster/admitted-memory.js';
import { createLogger } from '../../src/logger.js';
import { EventBus } from '../../src/events/bridge-events.js';
import { Counters } from '../../src/metrics/counters.js';
import { Deduplicator } from '../../src/pipeline/dedup.js';
import { openStore } from '../../src/store/open-store.js';
import type { JournalEntry, Store } from '../../src/store/types.js';
import { materialiseStoreSpec, openInspector, testStoreSpecs, uniqueBotName } from '../store/test-stores.js';

/**
 * Cluster failover in the store (migration 0005): rows carry their node, a survivor claims a
 * dead node's unanswered rows by compare-and-set on (node_id, owner_epoch), two survivors never
 * win the same row, and a device's keys load from every node for dedup after it moved.
 */

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

const silent = createLogger({ level: 'silent' });

function message(botName: string, logId: string, deviceId = 'dev-1', receivedAt = Date.now()): ChatMessage {
  return {
    id: `${botName}/42/${logId}`, traceId: `t-${logId}`, botName, deviceId, room: '방', channelId: '42', logId,
    text: `안녕 ${logId}`, sender: '보낸이', userHash: 'abcd', isGroupChat: true, isMention: false, clientTimestamp: null,
    receivedAt, legacy: false,
  };
}

describe.each(testStoreSpecs())('journal ownership on %s', (spec) => {
  async function setup() {
    const location = await materialiseStoreSpec(spec);
    const stores: Store[] = [];
    const open = async () => {
      const store = await openStore(location.url);
      stores.push(store);
      return store;
    };
    cleanups.push(async () => {
      for (const s of stores) await s.close();
      await location.cleanup();
    });
    const journalOf = (store: Store, nodeId?: string) => {
      const journal = new Journal({
        store: () => store, commitIntervalMs: 5, bufferLimit: 10_000, retentionMs: 60_000, pruneIntervalMs: 60_000, pruneBatchSize: 100,
        events: new EventBus(new Counters()), log: silent, ...(nodeId === undefined ? {} : { nodeId }),
      });
      cleanups.push(() => journal.close());
      return journal;
    };
    return { url: location.url, open, journalOf, botName: uniqueBotName() };
  }

  it('writes rows under their node; a single process reads every row as its own, a node only its own', async () => {
    const { url, open, journalOf, botName } = await setup();
    const store = await open();
    const local = journalOf(store);
    const a = journalOf(store, 'node-a');
    local.record(message(botName, '1'), '42');
    a.record(message(botName, '2'), '42');
    await local.flush();
    await a.flush();
    const inspector = openInspector(url);
    cleanups.push(() => inspector.destroy());
    const rows = await inspector.selectFrom('botbridge_journal').select(['log_id', 'node_id', 'owner_epoch']).orderBy('log_id').execute();
    expect(rows.map((r) => [r.log_id, r.node_id, Number(r.owner_epoch)])).toEqual([['1', 'local', 0], ['2', 'node-a', 0]]);
    expect((await store.journalPending(10)).map((e) => e.logId)).toEqual(['1', '2']);
    expect((await store.journalPending(10, 'node-a')).map((e) => e.logId)).toEqual(['2']);
    expect((await store.journalPending(10, 'node-b')).map((e) => e.logId)).toEqual([]);
  });

  it('lets exactly one of two survivors win each unanswered row of a dead node, never a done one', async () => {
    const { open, journalOf, botName } = await setup();
    const dead = journalOf(await open(), 'node-a');
    const keys = Array.from({ length: 40 }, (_, i) => dead.record(message(botName, String(100 + i)), '42')!);
    await dead.flush();
    for (const key of keys.slice(0, 10)) dead.markDone(key);
    await dead.flush();
    // Two survivors, each on its own connection, claim at once in small batches.
    const [b, c] = [await open(), await open()];
    const claimAll = async (store: Store, me: string) => {
      const won: JournalEntry[] = [];
      for (;;) {
        const rows = await store.claimJournal('node-a', me, 7);
        won.push(...rows);
        if (rows.length === 0) return won;
      }
    };
    const [byB, byC] = await Promise.all([claimAll(b, 'node-b'), claimAll(c, 'node-c')]);
    const wonB = byB.map((e) => e.logId);
    const wonC = byC.map((e) => e.logId);
    expect(wonB.filter((id) => wonC.includes(id))).toEqual([]);
    expect([...wonB, ...wonC].sort()).toEqual(keys.slice(10).map((k) => k.logId).sort());
    expect(await b.claimJournal('node-a', 'node-b', 100)).toEqual([]);
    // A self-claim (a restart under the same id) takes its own rows, and only those.
    expect((await b.claimJournal('node-b', 'node-b', 100)).map((e) => e.logId).sort()).toEqual([...wonB].sort());
    expect((await b.journalOwners()).sort()).toEqual([...(wonB.length > 0 ? ['node-b'] : []), ...(wonC.length > 0 ? ['node-c'] : [])]);
    expect((await b.journalPending(100, 'node-b')).map((e) => e.logId).sort()).toEqual([...wonB].sort());
    expect([...byB, ...byC][0]).toMatchObject({ botName, deviceId: 'dev-1', channelId: '42', room: '방', text: expect.stringMatching(/^안녕 1\d\d$/) });
  });

  it('fences by epoch: rows adopted twice carry epoch 2, and a claim sees the epoch it read', async () => {
    const { url, open, journalOf, botName } = await setup();
    const store = await open();
    const a = journalOf(store, 'node-a');
    a.record(message(botName, '1'), '42');
    await a.flush();
    expect((await store.claimJournal('node-a', 'node-b', 10)).map((e) => e.logId)).toEqual(['1']);
    expect((await store.claimJournal('node-b', 'node-c', 10)).map((e) => e.logId)).toEqual(['1']);
    const inspector = openInspector(url);
    cleanups.push(() => inspector.destroy());
    const row = await inspector.selectFrom('botbridge_journal').select(['node_id', 'owner_epoch']).executeTakeFirstOrThrow();
    expect([row.node_id, Number(row.owner_epoch)]).toEqual(['node-c', 2]);
  });

  it('loads one device\'s keys from every node and every state into a deduplicator, and no other device\'s', async () => {
    const { open, journalOf, botName } = await setup();
    const store = await open();
    const a = journalOf(store, 'node-a');
    const b = journalOf(store, 'node-b');
    const k1 = a.record(message(botName, '1', 'phone'), '42')!;
    a.record(message(botName, '2', 'phone'), '42');
    b.record(message(botName, '3', 'phone'), '42');
    a.record(message(botName, '4', 'other'), '42');
    a.record(message(botName, '5', 'phone', Date.now() - 300_000), '42');
    await a.flush();
    await b.flush();
    a.markDone(k1);
    await a.flush();
    const dedup = new Deduplicator({ windowMs: 120_000, legacyTwinWindowMs: 5_000, maxEntries: 100 });
    cleanups.push(async () => dedup.stop());
    const c = journalOf(store, 'node-c');
    expect(await c.seedDeviceDedup(dedup, botName, 'phone', 120_000, 100)).toBe(3);
    const check = (logId: string) => dedup.check({ botName, channelId: '42', logId, room: '방', sender: 's', text: `x${logId}` });
    expect(['1', '2', '3', '4', '5'].map(check)).toEqual(['duplicate', 'duplicate', 'duplicate', 'new', 'new']);
  });

  it('two survivors\' adoptions racing in batches take every row between them, each once', async () => {
    const { open, journalOf, botName } = await setup();
    const a = journalOf(await open(), 'node-a');
    for (let i = 0; i < 60; i += 1) a.record(message(botName, String(i)), '42');
    await a.flush();
    const handed: string[][] = [[], []];
    const adoptions = await Promise.all(['node-b', 'node-c'].map(async (me, k) => {
      const store = await open();
      const adoption = new JournalAdoption({
        store: () => store, nodeId: me, batchSize: 8, events: new EventBus(new Counters()), log: silent,
        replay: { admitAdopted: (rows) => (handed[k]!.push(...rows.map((r) => r.logId)), rows.length), adoptForDevice: () => undefined },
      });
      cleanups.push(async () => adoption.close());
      return adoption;
    }));
    const won = await Promise.all(adoptions.map((adoption) => adoption.adoptNode('node-a')));
    expect(won[0]! + won[1]!).toBe(60);
    expect([...handed[0]!, ...handed[1]!].sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 60 }, (_, i) => String(i)));
  });

  it('moves a dead node\'s outbox rows to one survivor per room, and each node reads only its own', async () => {
    const { open } = await setup();
    const [b, c] = [await open(), await open()];
    const now = Date.now();
    const row = (roomKey: string, nodeId: string, i: number) => ({
      botName: 'obot', roomKey, room: roomKey, channelId: null, deviceId: 'dev', reply: JSON.stringify({ text: `r${i}` }), traceId: `t${i}`, index: 0,
      queuedAt: new Date(now), expiresAt: new Date(now + 60_000), nodeId,
    });
    for (let i = 0; i < 6; i += 1) await b.insertOutbox(row(i % 2 === 0 ? 'room-1' : 'room-2', 'node-a', i));
    await b.insertOutbox(row('room-1', 'node-b', 9));
    expect((await b.outboxOfRoom('obot', 'room-1', 10, 'node-b')).map((r) => r.traceId)).toEqual(['t9']);
    const [wonB, wonC] = await Promise.all([b.claimOutbox('node-a', 'node-b'), c.claimOutbox('node-a', 'node-c')]);
    const moved = [...wonB, ...wonC].map((r) => [r.roomKey, r.queued]).sort();
    expect(moved).toEqual([['room-1', 3], ['room-2', 3]]);
    expect(await b.outboxRooms('node-a')).toEqual([]);
    const ofB = (await b.outboxRooms('node-b')).reduce((n, r) => n + r.queued, 0);
    const ofC = (await c.outboxRooms('node-c')).reduce((n, r) => n + r.queued, 0);
    expect(ofB + ofC).toBe(7);
    expect((await b.outboxRooms()).reduce((n, r) => n + r.queued, 0)).toBe(7);
  });

  it('JournalAdoption hands the rows it won to replay, once, and never its own', async () => {
    const { open, journalOf, botName } = await setup();
    const store = await open();
    const a = journalOf(store, 'node-a');
    for (let i = 0; i < 25; i += 1) a.record(message(botName, String(i)), '42');
    await a.flush();
    const handed: string[] = [];
    const counters = new Counters();
    const adoption = new JournalAdoption({
      store: () => store, nodeId: 'node-b', batchSize: 10, events: new EventBus(counters), log: silent,
      replay: { admitAdopted: (rows) => (handed.push(...rows.map((r) => r.logId)), rows.length), adoptForDevice: () => undefined },
    });
    cleanups.push(async () => adoption.close());
    const [first, second] = await Promise.all([adoption.adoptNode('node-a'), adoption.adoptNode('node-a')]);
    expect([first, second]).toEqual([25, 0]);
    expect(handed).toHaveLength(25);
    expect(handed).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    expect(await adoption.adoptNode('node-b')).toBe(0);
    expect(counters.get('journal_replay', 'adopted')).toBe(25);
  });

  it('a handshake\'s claim takes one device\'s rows only, by the same compare-and-set, and hands them to the device\'s session', async () => {
    const { open, journalOf, botName } = await setup();
    const store = await open();
    const a = journalOf(store, 'node-a');
    for (let i = 0; i < 10; i += 1) a.record(message(botName, String(i), i % 2 === 0 ? 'dev-x' : 'dev-y'), '42');
    await a.flush();
    const forDevice: JournalEntry[][] = [];
    const adopted: string[] = [];
    const adoption = new JournalAdoption({
      store: () => store, nodeId: 'node-b', events: new EventBus(new Counters()), log: silent,
      replay: { admitAdopted: (rows) => (adopted.push(...rows.map((r) => r.logId)), rows.length), adoptForDevice: (rows) => void forDevice.push([...rows]) },
    });
    cleanups.push(async () => adoption.close());
    const [first, second] = await Promise.all([adoption.adoptDevice('node-a', botName, 'dev-x'), adoption.adoptDevice('node-a', botName, 'dev-x')]);
    expect(first + second).toBe(5);
    expect(forDevice.flat().map((r) => [r.deviceId, r.logId])).toEqual(['0', '2', '4', '6', '8'].map((id) => ['dev-x', id]));
    // The other device's rows stay with the dead node until its lease expires (or that device's handshake).
    expect((await store.journalPending(20, 'node-a')).map((r) => r.deviceId)).toEqual(['dev-y', 'dev-y', 'dev-y', 'dev-y', 'dev-y']);
    expect(await adoption.adoptNode('node-a')).toBe(5);
    expect(adopted).toEqual(['1', '3', '5', '7', '9']);
  });

  it('announces every admission and every done message (committed or not), never one kept at shutdown', async () => {
    const { open, botName } = await setup();
    const store = await open();
    const notices: string[] = [];
    const admissions: string[] = [];
    const journal = new Journal({
      store: () => store, commitIntervalMs: 60_000, bufferLimit: 10_000, retentionMs: 60_000, pruneIntervalMs: 60_000, pruneBatchSize: 100,
      events: new EventBus(new Counters()), log: silent, nodeId: 'node-a', notifyDone: (key) => notices.push(key.logId),
      notifyAdmitted: (entry) => admissions.push(entry.logId),
    });
    cleanups.push(() => journal.close());
    const early = journal.record(message(botName, '1'), '42')!;
    const late = journal.record(message(botName, '2'), '42')!;
    const kept = journal.record(message(botName, '3'), '42')!;
    expect(admissions).toEqual(['1', '2', '3']);
    // Done before its row was written: the row is written as done; the peers holding its
    // admission notice hear it answered (else they could restore it after a kill).
    journal.markDone(early);
    await journal.flush();
    // Its row is committed as 'admitted': the done mark waits for the next commit (60 s here).
    journal.markDone(late);
    journal.keep(kept);
    journal.markDone(kept);
    expect(notices).toEqual(['1', '2']);
    expect((await store.journalPending(10, 'node-a')).map((e) => e.logId)).toEqual(['2', '3']);
  });

  it('marks done, instead of replaying, the adopted rows their dead owner announced answered (both adoption paths)', async () => {
    const { open, journalOf, botName } = await setup();
    const store = await open();
    const a = journalOf(store, 'node-a');
    for (let i = 0; i < 12; i += 1) a.record(message(botName, String(i), i < 6 ? 'dev-x' : 'dev-y'), '42');
    await a.flush();
    // The dead node had answered the even ones (their done marks never reached the store).
    const answered = new Set(['0', '2', '4', '6', '8', '10']);
    const b = journalOf(store, 'node-b');
    const counters = new Counters();
    const forDevice: string[] = [];
    const adopted: string[] = [];
    const adoption = new JournalAdoption({
      store: () => store, nodeId: 'node-b', events: new EventBus(counters), log: silent, journal: b,
      answeredElsewhere: (key) => answered.has(key.logId),
      replay: { admitAdopted: (rows) => (adopted.push(...rows.map((r) => r.logId)), rows.length), adoptForDevice: (rows) => void forDevice.push(...rows.map((r) => r.logId)) },
    });
    cleanups.push(async () => adoption.close());
    expect(await adoption.adoptDevice('node-a', botName, 'dev-x')).toBe(6);
    expect(await adoption.adoptNode('node-a')).toBe(6);
    expect(forDevice).toEqual(['1', '3', '5']);
    expect(adopted).toEqual(['7', '9', '11']);
    expect(counters.get('journal_replay', 'adopted')).toBe(12);
    expect(counters.get('journal_replay', 'already_done')).toBe(6);
    await b.flush();
    // The skipped rows are done (under the adopter); the replayed ones wait for their answers.
    expect((await store.journalPending(20, 'node-b')).map((e) => e.logId)).toEqual(['1', '3', '5', '7', '9', '11']);
    expect(await store.journalPending(20, 'node-a')).toEqual([]);
  });

  it('restores a dead node\'s uncommitted admissions as its rows before the claim: in admission order, INSERT IGNORE (a committed row keeps its state)', async () => {
    const { url, open, botName } = await setup();
    const store = await open();
    const memory = new AdmittedMemory();
    // The dead node's journal: its notices go to a peer's memory, as NATS would carry them.
    const a = new Journal({
      store: () => store, commitIntervalMs: 60_000, bufferLimit: 10_000, retentionMs: 60_000, pruneIntervalMs: 60_000, pruneBatchSize: 100,
      events: new EventBus(new Counters()), log: silent, nodeId: 'node-a',
      notifyAdmitted: (entry) => memory.admitted('node-a', [admissionToWire(entry)]),
      notifyDone: (key) => memory.done('node-a', key.botName, key.channelId, key.logId),
    });
    // One millisecond for every line: the order within it is the rows' ids.
    const at = Date.now();
    const keys = Array.from({ length: 4 }, (_, i) => a.record(message(botName, String(i), 'dev-x', at), '42')!);
    await a.flush();
    a.markDone(keys[0]!);
    await a.flush();
    // Committed: 0 (done), 1..3 (admitted). Buffered when it "dies": 4, 5 (dev-x), 6 (dev-y), 7 (answered).
    for (const [id, device] of [['4', 'dev-x'], ['5', 'dev-x'], ['6', 'dev-y'], ['7', 'dev-x']] as const) a.record(message(botName, id, device, at), '42');
    a.markDone({ botName, channelId: '42', logId: '7' });
    // A stale notice of a row committed as done (its done notice lost): INSERT IGNORE leaves it done.
    memory.admitted('node-a', [admissionToWire({ ...keys[0]!, doneAt: null } as JournalEntry)]);
    expect(memory.entriesOf('node-a').map((e) => e.logId)).toEqual(['1', '2', '3', '4', '5', '6', '0']);

    const counters = new Counters();
    const forDevice: JournalEntry[] = [];
    const adopted: string[] = [];
    const adoption = new JournalAdoption({
      store: () => store, nodeId: 'node-b', events: new EventBus(counters), log: silent, admittedElsewhere: memory,
      replay: { admitAdopted: (rows) => (adopted.push(...rows.map((r) => r.logId)), rows.length), adoptForDevice: (rows) => void forDevice.push(...rows) },
    });
    cleanups.push(async () => adoption.close());
    expect(await adoption.adoptDevice('node-a', botName, 'dev-x')).toBe(5);
    expect(forDevice.map((r) => r.logId)).toEqual(['1', '2', '3', '4', '5']);
    expect(forDevice[4]).toMatchObject({ botName, deviceId: 'dev-x', channelId: '42', roomKey: '42', room: '방', sender: '보낸이', text: '안녕 5', userHash: 'abcd', isGroupChat: true, isMention: false, traceId: 't-5', admittedAt: new Date(at) });
    expect(await adoption.adoptNode('node-a')).toBe(1);
    expect(adopted).toEqual(['6']);
    expect(counters.get('journal_replay', 'restored')).toBe(3);
    expect(memory.size).toBe(0);
    const inspector = openInspector(url);
    cleanups.push(() => inspector.destroy());
    const rows = await inspector.selectFrom('botbridge_journal').select(['log_id', 'state', 'node_id', 'owner_epoch']).orderBy('id').execute();
    expect(rows.map((r) => [r.log_id, r.state, r.node_id, Number(r.owner_epoch)])).toEqual([
      ['0', 'done', 'node-a', 0], ['1', 'admitted', 'node-b', 1], ['2', 'admitted', 'node-b', 1], ['3', 'admitted', 'node-b', 1],
      ['4', 'admitted', 'node-b', 1], ['5', 'admitted', 'node-b', 1], ['6', 'admitted', 'node-b', 1],
    ]);
    // The dead node's buffered rows, were it only cut off and committing now, keep the adopter as owner.
    await a.close();
    expect(await store.restoreJournal('node-a', [{ ...keys[1]!, doneAt: null } as JournalEntry])).toBe(0);
    const after = await inspector.selectFrom('botbridge_journal').select(['log_id', 'state', 'node_id']).orderBy('id').execute();
    expect(after.map((r) => [r.log_id, r.state, r.node_id])).toEqual([
      ['0', 'done', 'node-a'], ['1', 'admitted', 'node-b'], ['2', 'admitted', 'node-b'], ['3', 'admitted', 'node-b'],
      ['4', 'admitted', 'node-b'], ['5', 'admitted', 'node-b'], ['6', 'admitted', 'node-b'], ['7', 'done', 'node-a'],
    ]);
  });

  it('names the owners of queued outbox rows (a start adopts a dead node that left only replies)', async () => {
    const { open } = await setup();
    const store = await open();
    const now = Date.now();
    expect(await store.outboxOwners()).toEqual([]);
    await store.insertOutbox({
      botName: 'obot', roomKey: 'r', room: 'r', channelId: null, deviceId: 'dev', reply: JSON.stringify({ text: 'x' }), traceId: 't', index: 0,
      queuedAt: new Date(now), expiresAt: new Date(now + 60_000), nodeId: 'node-z',
    });
    expect(await store.outboxOwners()).toEqual(['node-z']);
    expect(await store.journalOwners()).not.toContain('node-z');
  });
});
