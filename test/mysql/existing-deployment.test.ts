import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { definePlugin, usePlugin } from '@botbridge/sdk';
import { chatLog } from '@botbridge/plugin-chat-log';
import type { Connection } from 'mysql2/promise';
import { MYSQL_SERVER, rows, until, useMysql } from './mysql-harness.js';
import { OLD_DEPLOYMENT_SQL, OLD_TABLES } from './old-deployment.js';

/**
 * botbridge started on a database an existing deployment (the Python server and its PHP admin)
 * has been using: every row survives, approvals written by SQL reach live connections, and
 * monitoring rows land in the old columns. Real MariaDB, one fresh database per test.
 */

const echo = definePlugin({
  name: 'echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => (message.text.startsWith('# echo ') ? `에코: ${message.text.slice(7)}` : undefined));
  },
});

const LEGACY_ROOM = '18445682959392711';

describe.skipIf(MYSQL_SERVER === undefined)('an existing kb_* deployment', () => {
  const my = useMysql();

  async function oldDeployment(): Promise<{ url: string; sql: Connection }> {
    const url = await my.database();
    const sql = await my.sql(url);
    await sql.query(OLD_DEPLOYMENT_SQL);
    return { url, sql };
  }

  async function snapshot(sql: Connection): Promise<Record<string, Record<string, unknown>[]>> {
    const out: Record<string, Record<string, unknown>[]> = {};
    for (const table of OLD_TABLES) out[table] = await rows(sql, `select * from ${table} order by ${table === 'kb_rooms' ? 'room_id' : 'id'}`);
    return out;
  }

  async function indexes(sql: Connection, table: string): Promise<string[]> {
    const list = await rows<{ Key_name: string; Column_name: string; Non_unique: number }>(sql, `show index from ${table}`);
    return list.map((i) => `${i.Non_unique === 0 ? 'unique' : 'index'} ${i.Key_name}(${i.Column_name})`).sort();
  }

  it('keeps every row, key and column, and only adds what botbridge needs', async () => {
    const { url, sql } = await oldDeployment();
    const before = await snapshot(sql);
    const devicesIndexes = await indexes(sql, 'kb_bot_devices');
    const roomsIndexes = await indexes(sql, 'kb_rooms');

    const t = await my.bridge({ autoApprove: false, config: { store: { url } } });
    await t.close();
    // A second start finds nothing to do.
    const again = await my.bridge({ autoApprove: false, config: { store: { url } } });
    expect((await again.bridge.admin.listRooms({ botName: 'LOA.i' })).map((r) => [r.roomId, r.status, r.roomConcurrency])).toEqual([
      [LEGACY_ROOM, 'approved', 1], ['222', 'approved', 2], ['333', 'pending', 1],
    ]);
    await again.close();

    const after = await snapshot(sql);
    for (const table of OLD_TABLES) {
      expect(after[table]!.length, table).toBe(before[table]!.length);
      after[table]!.forEach((row, i) => expect(row, `${table} row ${i}`).toMatchObject(before[table]![i]!));
    }
    // Only the missing column was added, empty; no row was rewritten.
    expect(after.kb_bot_devices!.map((d) => d.max_message_size)).toEqual([null, null, null, null]);
    expect(Object.keys(after.kb_bot_devices![0]!).filter((c) => !(c in before.kb_bot_devices![0]!))).toEqual(['max_message_size']);
    for (const table of ['kb_rooms', 'kb_chat_logs', 'kb_ping_monitor', 'kb_system_monitor']) {
      expect(Object.keys(after[table]![0]!), table).toEqual(Object.keys(before[table]![0]!));
    }
    // The old keys stay; the change feed gets an index on updated_at; nothing else changes.
    expect(await indexes(sql, 'kb_bot_devices')).toEqual([...devicesIndexes, 'index idx_kb_bot_devices_updated_at(updated_at)'].sort());
    expect(await indexes(sql, 'kb_rooms')).toEqual([...roomsIndexes, 'index idx_kb_rooms_updated_at(updated_at)'].sort());
    expect(await rows(sql, 'select name from botbridge_migrations order by name')).toEqual([{ name: '0001_kb_tables' }, { name: '0002_kb_compat' }, { name: '0003_journal' }, { name: '0004_outbox' }, { name: '0005_journal_owner' }, { name: '0006_outbox_owner' }, { name: '0007_push_keys' }]);
  });

  it('serves the stored approvals and picks up approvals written by SQL on live connections', async () => {
    const { url, sql } = await oldDeployment();
    // Default refresh settings: "within a few seconds" as an operator would see it.
    const t = await my.bridge({ autoApprove: false, plugins: [echo], config: { store: { url } } });

    const approved = await my.phone(t, { deviceId: 'phone-approved' });
    expect(await approved.handshake).toMatchObject({ success: true, approved: true });
    await approved.shouldReply({ text: '# echo 안녕', channelId: LEGACY_ROOM }, '에코: 안녕');

    const revoked = await my.phone(t, { deviceId: 'phone-revoked' });
    expect(await revoked.handshake).toMatchObject({ success: false, approved: false });

    const pending = await my.phone(t, { deviceId: 'phone-pending' });
    expect(await pending.handshake).toMatchObject({ success: true, approved: false });
    await pending.shouldNotReply({ text: '# echo 대기', channelId: LEGACY_ROOM }, { quietMs: 300 });

    // The PHP admin approves the device and leaves updated_at saying nothing changed (this old
    // table has no ON UPDATE): the change feed cannot see it, the periodic full refresh does.
    await sql.query("update kb_bot_devices set status = 'approved', approved_at = now(), updated_at = '2025-01-03 09:00:00' where device_id = 'phone-pending'");
    await until('the device approved by SQL gets answers', () =>
      pending.shouldReply({ text: '# echo 승인', channelId: LEGACY_ROOM }, '에코: 승인', { timeoutMs: 300 }));

    // A pending room approved by SQL (this table stamps updated_at ON UPDATE).
    await approved.shouldNotReply({ text: '# echo 방', channelId: '333', room: '대기방' }, { quietMs: 300 });
    await sql.query("update kb_rooms set status = 'approved' where room_id = '333'");
    await until('the room approved by SQL gets answers', () =>
      approved.shouldReply({ text: '# echo 방', channelId: '333', room: '대기방' }, '에코: 방', { timeoutMs: 300 }));

    // Blocking by SQL disconnects the live connection.
    await sql.query("update kb_bot_devices set status = 'blocked', rejection_reason = 'spam' where device_id = 'phone-approved'");
    await approved.closed;
  }, 40_000);

  it('registers new devices and rooms next to the old rows, whatever the old keys allow', async () => {
    const { url, sql } = await oldDeployment();
    const t = await my.bridge({ autoApprove: false, plugins: [echo], config: { store: { url } } });

    const fresh = await my.phone(t, { deviceId: 'phone-new' });
    expect(await fresh.handshake).toMatchObject({ approved: false, message: '디바이스가 승인 대기 상태로 등록되었습니다' });
    expect(await rows(sql, "select bot_name, status, max_message_size from kb_bot_devices where device_id = 'phone-new'")).toEqual([
      { bot_name: 'LOA.i', status: 'pending', max_message_size: null },
    ]);

    // UNIQUE(device_id): the phone of another bot cannot get a row of its own; fail closed.
    const otherBot = await my.phone(t, { botName: 'Other', deviceId: 'phone-shop' });
    expect(await otherBot.handshake).toMatchObject({ success: true, approved: false });
    expect(t.bridge.admin.counters.get('store_errors', 'register_device')).toBe(1);
    expect(await rows(sql, "select bot_name, status from kb_bot_devices where device_id = 'phone-shop'")).toEqual([{ bot_name: 'Shop', status: 'approved' }]);

    // PRIMARY KEY(room_id) holds '777' for Shop: LOA.i's room 777 gets the old `<channelId>_<botName>` key.
    const shop = await my.phone(t, { botName: 'Shop', deviceId: 'phone-shop' });
    expect(await shop.handshake).toMatchObject({ approved: true });
    const approved = await my.phone(t, { deviceId: 'phone-approved' });
    await approved.handshake;
    approved.analyze({ text: '처음', channelId: '777', room: '같은방' });
    await until('room 777 of LOA.i registered', async () => {
      expect(await rows(sql, "select room_id, bot_name, status from kb_rooms where room_id like '777%' order by room_id")).toEqual([
        { room_id: '777', bot_name: 'Shop', status: 'approved' },
        { room_id: '777_LOA.i', bot_name: 'LOA.i', status: 'pending' },
      ]);
    });
    await shop.shouldReply({ text: '# echo 샵', channelId: '777', room: '같은방' }, '에코: 샵');
    await approved.shouldNotReply({ text: '# echo 로아', channelId: '777', room: '같은방' }, { quietMs: 300 });
  });

  it('writes pings, system samples and chat logs into the old columns', async () => {
    const { url, sql } = await oldDeployment();
    const t = await my.bridge({
      autoApprove: false,
      plugins: [echo, usePlugin(chatLog, {})],
      config: {
        store: { url },
        session: { pingIntervalMs: 200, pingJitterMs: 0 },
        monitor: { systemSampleIntervalMs: 300, serverName: 'bb-test' },
      },
    });
    const phone = await my.phone(t, { deviceId: 'phone-approved' });
    await phone.handshake;
    await phone.shouldReply({ text: '# echo 안녕', channelId: LEGACY_ROOM, timestamp: '2025-07-15 17:00:00' }, '에코: 안녕');

    type PingRow = { client_ip: string; ping_time_ms: number; client_timestamp: string; server_timestamp: string; total_memory: number; memory_usage: number; memory_percent: string; message_queue_size: number; active_rooms: number; created_at: string };
    let pings: PingRow[] = [];
    await until('two ping rows', async () => {
      pings = await rows<PingRow>(sql, "select * from kb_ping_monitor where device_id = 'phone-approved' and id > 1 order by id");
      expect(pings.length).toBeGreaterThanOrEqual(2);
    });
    const sentAt = phone.pings.map((p) => p.server_timestamp);
    const dateTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
    for (const ping of pings) {
      expect(ping).toMatchObject({ client_ip: '127.0.0.1', total_memory: 512, memory_usage: 97, memory_percent: '19.00', message_queue_size: 0 });
      expect(ping.ping_time_ms).toBeGreaterThanOrEqual(0);
      // DATETIME columns: the echoed server time and the answer time, in the server's zone (UTC here).
      expect(sentAt.map(dateTime)).toContain(ping.client_timestamp);
      expect(ping.server_timestamp >= ping.client_timestamp).toBe(true);
    }

    type SystemRow = { server_name: string; cpu_percent: string | null; memory_total: number; memory_used: number; memory_percent: string; disk_usage_percent: string; active_connections: number; message_queue_size: number };
    await until('two system samples', async () => {
      const samples = await rows<SystemRow>(sql, "select * from kb_system_monitor where server_name = 'bb-test' order by id");
      expect(samples.length).toBeGreaterThanOrEqual(2);
      for (const sample of samples) {
        expect(sample).toMatchObject({ memory_total: totalmem(), active_connections: 1, message_queue_size: 0 });
        expect(sample.memory_used).toBeGreaterThan(0);
        expect(Number(sample.memory_percent)).toBeGreaterThan(0);
        expect(Number(sample.memory_percent)).toBeLessThanOrEqual(100);
        expect(Number(sample.disk_usage_percent)).toBeGreaterThan(0);
        expect(Number(sample.cpu_percent)).toBeGreaterThanOrEqual(0);
        expect(Number(sample.cpu_percent)).toBeLessThanOrEqual(100);
      }
    });

    await until('the chat log rows', async () => {
      const chat = await rows(sql, "select sender, message, message_type, client_timestamp, is_our_bot_response from kb_chat_logs where id > 2 order by id");
      expect(chat).toEqual([
        expect.objectContaining({ message: '# echo 안녕', client_timestamp: '2025-07-15 17:00:00', is_our_bot_response: 0 }),
        expect.objectContaining({ message: '에코: 안녕', is_our_bot_response: 1 }),
      ]);
    });
    expect(t.bridge.admin.counters.total('store_writes_dropped')).toBe(0);
  });
});
