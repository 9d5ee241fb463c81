import type { ChatMessage } from '@botbridge/sdk';
import { describe, expect, it, vi } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { createLogger } from '../../src/logger.js';
import { EventBus } from '../../src/events/bridge-events.js';
import { Counters } from '../../src/metrics/counters.js';
import type { JournalCommit, Store } from '../../src/store/types.js';

/** The journal when the store fails: entries are kept in order and retried; past the limit the oldest go, counted. */

const message = (logId: string): ChatMessage => ({
  id: logId, traceId: logId, botName: 'b', deviceId: 'd', room: 'r', channelId: '1', logId, text: 't', sender: 's', userHash: null,
  isGroupChat: true, isMention: false, clientTimestamp: null, receivedAt: Date.now(), legacy: false,
});

function failingStore(failures: number) {
  const commits: JournalCommit[] = [];
  let left = failures;
  const store = {
    writeJournal: async (commit: JournalCommit) => {
      if (left > 0) {
        left -= 1;
        throw new Error('store down');
      }
      commits.push(commit);
    },
  } as unknown as Store;
  return { store, commits };
}

function journalOn(store: Store, bufferLimit = 100) {
  const counters = new Counters();
  const journal = new Journal({ store: () => store, commitIntervalMs: 1, bufferLimit, retentionMs: 1, pruneIntervalMs: 60_000, pruneBatchSize: 1, events: new EventBus(counters), log: createLogger({ level: 'silent' }) });
  return { journal, counters };
}

describe('Journal when a commit fails', () => {
  it('retries a deadlock victim at the next commit interval, not after the store-down pause (done marks stay buffered less)', async () => {
    vi.useFakeTimers();
    try {
      const attempts: string[] = [];
      let deadlocks = 1;
      const store = {
        writeJournal: async (commit: JournalCommit) => {
          attempts.push(commit.admitted.map((e) => e.logId).join(','));
          if (deadlocks > 0) {
            deadlocks -= 1;
            throw Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), { errno: 1213, code: 'ER_LOCK_DEADLOCK' });
          }
        },
      } as unknown as Store;
      const { journal } = journalOn(store);
      journal.record(message('a'), '1');
      await vi.advanceTimersByTimeAsync(1);
      expect(attempts).toEqual(['a']);
      // Well before the 1 s pause of a store that is down.
      await vi.advanceTimersByTimeAsync(20);
      expect(attempts).toEqual(['a', 'a']);
      // A store that is down still waits the pause.
      const down = failingStore(2);
      const slow = journalOn(down.store).journal;
      slow.record(message('b'), '1');
      await vi.advanceTimersByTimeAsync(20);
      expect(down.commits).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1_000);
      await journal.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the entries in order and writes them (rows before their done marks) on the retry', async () => {
    const { store, commits } = failingStore(1);
    const { journal, counters } = journalOn(store);
    const a = journal.record(message('a'), '1')!;
    await expect(journal.flush()).rejects.toThrow('store down');
    journal.markDone(a);
    journal.record(message('b'), '1');
    await journal.flush();
    expect(counters.get('journal_errors')).toBe(1);
    expect(commits).toHaveLength(1);
    expect(commits[0]!.admitted.map((e) => [e.logId, e.doneAt === null])).toEqual([['a', false], ['b', true]]);
    expect(commits[0]!.done).toEqual([]);
    await journal.close();
  });

  it('drops the oldest entries beyond bufferLimit, counted', async () => {
    const { store, commits } = failingStore(1);
    const { journal, counters } = journalOn(store, 3);
    for (const id of ['a', 'b', 'c']) journal.record(message(id), '1');
    await expect(journal.flush()).rejects.toThrow('store down');
    journal.record(message('d'), '1');
    expect(counters.get('journal_dropped', 'buffer_full')).toBe(1);
    await journal.flush();
    expect(commits[0]!.admitted.map((e) => e.logId)).toEqual(['b', 'c', 'd']);
    await journal.close();
  });
});
