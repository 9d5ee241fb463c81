import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { isStoreUnavailable } from '../../src/store/store-errors.js';
import { openSqliteDatabase, sqlitePragmas } from '../../src/store/sqlite.js';
import { SqliteWriterThread, sqliteThreadInsertRows } from '../../src/store/sqlite-writer.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';

describe('SQLite writer thread', () => {
  let dir: string;
  let file: string;
  let db: Kysely<Database>;
  let writer: SqliteWriterThread;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'botbridge-writer-'));
    file = join(dir, 'bridge.db');
    await (await openStore(`sqlite:${file}`)).close(); // migrated
    db = openSqliteDatabase(file);
    writer = new SqliteWriterThread(file, sqlitePragmas(file));
  });
  afterEach(async () => {
    await writer.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const sample = (server: string | null, cpu: number | null = 1) => ({
    server_name: server, cpu_percent: cpu, memory_total: 1, memory_used: 2, memory_percent: 3,
    disk_usage_percent: 4, active_connections: 5, message_queue_size: 6, created_at: '2026-01-02 03:04:05.006',
  });
  const stored = () => {
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      return (reader.prepare('select server_name, cpu_percent from kb_system_monitor order by id').all() as { server_name: string; cpu_percent: number | null }[]);
    } finally {
      reader.close();
    }
  };

  it('writes each batch in order and answers once it is committed', async () => {
    const insert = sqliteThreadInsertRows(db, writer);
    await Promise.all([insert('kb_system_monitor', [sample('a'), sample('b', null)]), insert('kb_system_monitor', [sample('c')])]);
    expect(stored()).toEqual([{ server_name: 'a', cpu_percent: 1 }, { server_name: 'b', cpu_percent: null }, { server_name: 'c', cpu_percent: 1 }]);
  });

  it('a refused row rolls back its batch and rejects with the SQLite error and code (not "unavailable")', async () => {
    const insert = sqliteThreadInsertRows(db, writer);
    const failure = await insert('kb_system_monitor', [sample('a'), sample(null), sample('c')]).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
    expect(isStoreUnavailable(failure)).toBe(false);
    expect(stored()).toEqual([]);
    await insert('kb_system_monitor', [sample('after')]);
    expect(stored().map((r) => r.server_name)).toEqual(['after']);
  });

  it('a thread that dies fails its writes as retryable, and the next write starts a new one', async () => {
    const insert = sqliteThreadInsertRows(db, writer);
    await insert('kb_system_monitor', [sample('first')]);
    const worker = (writer as unknown as { worker: Worker }).worker;
    const inFlight = insert('kb_system_monitor', [sample('maybe')]).catch((error: unknown) => error);
    await worker.terminate();
    const outcome = await inFlight;
    // Either it was committed before the thread went, or it was rejected as retryable.
    if (outcome !== undefined) expect(isStoreUnavailable(outcome)).toBe(true);
    await insert('kb_system_monitor', [sample('second')]);
    expect(stored().map((r) => r.server_name)).toEqual(expect.arrayContaining(['first', 'second']));
  });

  it('close() waits for the writes sent before it; later writes are refused', async () => {
    const insert = sqliteThreadInsertRows(db, writer);
    const writes = Array.from({ length: 20 }, (_, i) => insert('kb_system_monitor', [sample(`s${i}`)]));
    await writer.close();
    await Promise.all(writes);
    expect(stored()).toHaveLength(20);
    await expect(insert('kb_system_monitor', [sample('late')])).rejects.toThrow('closed');
  });

  it('a file store writes its batches through the thread while the main connection reads and writes', async () => {
    const store = await openStore(`sqlite:${file}`);
    try {
      const rows = Array.from({ length: 300 }, (_, i) => ({
        botName: 'b', deviceId: 'd', clientIp: '127.0.0.1', pingTimeMs: i, clientTimestamp: 1, serverTimestamp: 2,
        totalMemory: null, memoryUsage: null, memoryPercent: null, messageQueueSize: null, activeRooms: null,
      }));
      await Promise.all([
        store.insertPings(rows),
        store.registerDevice({ botName: 'b', deviceId: 'd', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'pending' }),
      ]);
      expect(await store.getDevice('b', 'd')).toMatchObject({ status: 'pending' });
    } finally {
      await store.close();
    }
    const reader = new BetterSqlite3(file, { readonly: true });
    expect(reader.prepare('select count(*) as n from kb_ping_monitor').get()).toEqual({ n: 300 });
    reader.close();
  });
});
