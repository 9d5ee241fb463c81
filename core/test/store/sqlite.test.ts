import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/open-store.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';

describe('sqlite store', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'botbridge-sqlite-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function tableNames(file: string): string[] {
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      return (db.prepare("select name from sqlite_master where type = 'table' order by name").all() as { name: string }[]).map((r) => r.name);
    } finally {
      db.close();
    }
  }

  it('creates the parent directory, the kb_* tables and the botbridge migration tables', async () => {
    const file = join(dir, 'nested', 'deeper', 'bridge.db');
    const store = await openStore(`sqlite:${file}`);
    await store.close();
    expect(existsSync(file)).toBe(true);
    expect(tableNames(file)).toEqual(expect.arrayContaining([
      'kb_bot_devices', 'kb_rooms', 'kb_chat_logs', 'kb_ping_monitor', 'kb_system_monitor', MIGRATION_TABLE, MIGRATION_LOCK_TABLE,
    ]));
    expect(MIGRATION_TABLE).toBe('botbridge_migrations');
    expect(tableNames(file).filter((n) => n.startsWith('kysely'))).toEqual([]);
  });

  it('records each migration once however often it opens', async () => {
    const file = join(dir, 'bridge.db');
    for (let i = 0; i < 3; i += 1) await (await openStore(`sqlite:${file}`)).close();
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      expect(db.prepare(`select name from ${MIGRATION_TABLE}`).all()).toEqual([{ name: '0001_kb_tables' }, { name: '0002_kb_compat' }, { name: '0003_journal' }, { name: '0004_outbox' }, { name: '0005_journal_owner' }, { name: '0006_outbox_owner' }, { name: '0007_push_keys' }]);
      const indexes = (db.prepare("select name from sqlite_master where type = 'index' and name like 'idx_kb_%'").all() as { name: string }[]).map((r) => r.name);
      expect(indexes).toEqual(expect.arrayContaining(['idx_kb_chat_logs_bot_channel_log', 'idx_kb_bot_devices_updated_at', 'idx_kb_rooms_updated_at']));
    } finally {
      db.close();
    }
  });

  it('sets WAL, busy_timeout, synchronous=NORMAL and foreign keys', async () => {
    const db = openSqliteDatabase(join(dir, 'bridge.db'));
    try {
      const pragma = async (name: string) => Object.values((await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(db)).rows[0] ?? {})[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('busy_timeout')).toBe(5000);
      expect(await pragma('synchronous')).toBe(1);
      expect(await pragma('foreign_keys')).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  it('several stores migrating one fresh file at once all succeed', async () => {
    const url = `sqlite:${join(dir, 'bridge.db')}`;
    const stores = await Promise.all([openStore(url), openStore(url), openStore(url)]);
    for (const s of stores) await s.close();
  });

  it('leaves a pre-existing kb_bot_devices table and its rows alone', async () => {
    const file = join(dir, 'old.db');
    const old = new BetterSqlite3(file);
    old.exec(`create table kb_bot_devices (id integer primary key autoincrement, bot_name varchar(100) not null,
      device_id varchar(255) not null, ip_address varchar(64), client_type varchar(100), client_version varchar(50),
      status varchar(20) not null default 'pending', max_message_size integer, approved_at text, rejection_reason text,
      created_at text not null, updated_at text not null, unique (bot_name, device_id))`);
    old.prepare(`insert into kb_bot_devices (bot_name, device_id, status, created_at, updated_at) values (?, ?, ?, ?, ?)`)
      .run('LOA.i', 'old-phone', 'approved', '2024-01-02 03:04:05.000', '2024-01-02 03:04:05.000');
    old.prepare(`insert into kb_bot_devices (bot_name, device_id, status, created_at, updated_at) values (?, ?, ?, ?, ?)`)
      .run('LOA.i', 'odd-phone', 'on-hold', '2024-01-02 03:04:05', '2024-01-02 03:04:05');
    old.close();
    const store = await openStore(`sqlite:${file}`);
    try {
      expect(await store.getDevice('LOA.i', 'old-phone')).toMatchObject({ status: 'approved', createdAt: new Date('2024-01-02T03:04:05.000Z') });
      // A status this version does not know never reads as approved.
      expect((await store.getDevice('LOA.i', 'odd-phone'))?.status).toBe('pending');
    } finally {
      await store.close();
    }
  });

  it('opens sqlite::memory: without touching the disk', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      expect(store.description).toBe('sqlite::memory:');
      expect(store.dialect).toBe('sqlite');
      const { created } = await store.registerDevice({ botName: 'b', deviceId: 'd', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'pending' });
      expect(created).toBe(true);
      expect(await store.listDevices()).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
