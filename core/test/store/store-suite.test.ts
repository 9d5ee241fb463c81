import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isBridgeError } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';
import type { ChatLogRow, PingRow, RegisterDeviceInput, Store } from '../../src/store/types.js';
import { materialiseStoreSpec, openInspector, testStoreSpecs, uniqueBotName } from './test-stores.js';
import type { TestStoreLocation } from './test-stores.js';

describe.each(testStoreSpecs())('store %s', (spec) => {
  let location: TestStoreLocation;
  let store: Store;
  const opened: Store[] = [];
  let bot: string;

  async function open(): Promise<Store> {
    const s = await openStore(location.url);
    opened.push(s);
    return s;
  }

  function device(deviceId: string, over: Partial<RegisterDeviceInput> = {}): RegisterDeviceInput {
    return { botName: bot, deviceId, ipAddress: '10.0.0.1', clientType: 'MessengerBotR', clientVersion: '3.2.1', initialStatus: 'pending', ...over };
  }

  beforeEach(async () => {
    location = await materialiseStoreSpec(spec);
    bot = uniqueBotName();
    store = await open();
  });

  afterEach(async () => {
    vi.useRealTimers();
    for (const s of opened.splice(0)) await s.close();
    await location.cleanup();
  });

  describe('migrations', () => {
    it('are idempotent and keep data', async () => {
      await store.registerDevice(device('d1'));
      await store.migrate();
      const second = await open();
      await second.migrate();
      await store.healthCheck();
      expect((await second.getDevice(bot, 'd1'))?.deviceId).toBe('d1');
    });
  });

  describe('devices', () => {
    it('registers a new device with its initial status', async () => {
      const { record, created } = await store.registerDevice(device('d1'));
      expect(created).toBe(true);
      expect(record).toMatchObject({ botName: bot, deviceId: 'd1', status: 'pending', ipAddress: '10.0.0.1', clientType: 'MessengerBotR', clientVersion: '3.2.1', approvedAt: null, rejectionReason: null });
      expect(record.createdAt).toBeInstanceOf(Date);
      expect(record.updatedAt.getTime()).toBe(record.createdAt.getTime());
    });

    it('stamps approvedAt for a device auto-approved on first contact', async () => {
      const { record } = await store.registerDevice(device('d1', { initialStatus: 'approved' }));
      expect(record.status).toBe('approved');
      expect(record.approvedAt?.getTime()).toBe(record.createdAt.getTime());
    });

    it('keeps the status of a known device and refreshes its address and version', async () => {
      await store.registerDevice(device('d1'));
      expect(await store.setDeviceStatus(bot, 'd1', 'approved')).toBe(true);
      const { record, created } = await store.registerDevice(device('d1', { ipAddress: '10.0.0.9', clientVersion: '3.2.2', initialStatus: 'pending' }));
      expect(created).toBe(false);
      expect(record).toMatchObject({ status: 'approved', ipAddress: '10.0.0.9', clientVersion: '3.2.2' });
      expect(await store.getDevice(bot, 'd1')).toMatchObject({ status: 'approved', ipAddress: '10.0.0.9', clientVersion: '3.2.2' });
    });

    it('a plain reconnect writes nothing, a changed address moves updatedAt', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2025-07-15T08:00:00.000Z'));
      const first = (await store.registerDevice(device('d1'))).record;
      vi.setSystemTime(new Date('2025-07-15T08:05:00.000Z'));
      const again = await store.registerDevice(device('d1'));
      expect(again.record.updatedAt).toEqual(first.updatedAt);
      expect((await store.getDevice(bot, 'd1'))?.updatedAt).toEqual(first.updatedAt);
      const moved = await store.registerDevice(device('d1', { ipAddress: '10.0.0.2' }));
      expect(moved.record.updatedAt).toEqual(new Date('2025-07-15T08:05:00.000Z'));
      expect((await store.getDevice(bot, 'd1'))?.updatedAt).toEqual(new Date('2025-07-15T08:05:00.000Z'));
    });

    it('a client that omits its version keeps the one it sent before', async () => {
      await store.registerDevice(device('d1'));
      const { record } = await store.registerDevice(device('d1', { clientVersion: null, clientType: null }));
      expect(record).toMatchObject({ clientVersion: '3.2.1', clientType: 'MessengerBotR' });
    });

    it('changes status, stamps approval and records reasons', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2025-07-15T08:00:00.000Z'));
      await store.registerDevice(device('d1'));
      vi.setSystemTime(new Date('2025-07-15T09:00:00.123Z'));
      await store.setDeviceStatus(bot, 'd1', 'approved', 'ignored for approvals');
      expect(await store.getDevice(bot, 'd1')).toMatchObject({
        status: 'approved', approvedAt: new Date('2025-07-15T09:00:00.123Z'), rejectionReason: null, updatedAt: new Date('2025-07-15T09:00:00.123Z'),
      });
      vi.setSystemTime(new Date('2025-07-15T10:00:00.000Z'));
      await store.setDeviceStatus(bot, 'd1', 'revoked', 'lost phone');
      expect(await store.getDevice(bot, 'd1')).toMatchObject({
        status: 'revoked', approvedAt: new Date('2025-07-15T09:00:00.123Z'), rejectionReason: 'lost phone', updatedAt: new Date('2025-07-15T10:00:00.000Z'),
      });
    });

    it('reports a missing device on a status change', async () => {
      expect(await store.setDeviceStatus(bot, 'nope', 'approved')).toBe(false);
      expect(await store.getDevice(bot, 'nope')).toBeUndefined();
    });

    it('lists with bot and status filters', async () => {
      const other = uniqueBotName();
      await store.registerDevice(device('b'));
      await store.registerDevice(device('a'));
      await store.registerDevice(device('c', { botName: other }));
      await store.setDeviceStatus(bot, 'b', 'approved');
      expect((await store.listDevices({ botName: bot })).map((d) => d.deviceId)).toEqual(['a', 'b']);
      expect((await store.listDevices({ botName: bot, status: 'approved' })).map((d) => d.deviceId)).toEqual(['b']);
      expect((await store.listDevices({ botName: other, status: 'approved' }))).toEqual([]);
      const all = (await store.listDevices()).filter((d) => d.botName === bot || d.botName === other);
      expect(all.map((d) => `${d.botName === bot ? 'bot' : 'other'}/${d.deviceId}`)).toEqual(
        bot < other ? ['bot/a', 'bot/b', 'other/c'] : ['other/c', 'bot/a', 'bot/b'],
      );
    });

    it('the change feed sees a status change made through another store instance', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2025-07-15T08:00:00.000Z'));
      await store.registerDevice(device('quiet'));
      await store.registerDevice(device('changed'));
      const since = new Date('2025-07-15T08:00:01.000Z');
      expect((await store.devicesChangedSince(since)).filter((d) => d.botName === bot)).toEqual([]);

      const cli = await open();
      vi.setSystemTime(since);
      expect(await cli.setDeviceStatus(bot, 'changed', 'approved')).toBe(true);
      const changed = (await store.devicesChangedSince(since)).filter((d) => d.botName === bot);
      expect(changed.map((d) => [d.deviceId, d.status])).toEqual([['changed', 'approved']]);
      expect((await store.devicesChangedSince(new Date('2025-07-15T08:00:01.001Z'))).filter((d) => d.botName === bot)).toEqual([]);
    });

    it('concurrent registrations of one new device make one row and one creation', async () => {
      const other = await open();
      const results = await Promise.all([store, other, store, other].map((s) => s.registerDevice(device('race'))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.record.createdAt.getTime())).size).toBe(1);
      expect(await store.listDevices({ botName: bot })).toHaveLength(1);
    });
  });

  describe('rooms', () => {
    const room = (roomId: string, roomName = '테스트방') => ({ botName: bot, roomId, roomName, initialStatus: 'pending' as const });

    it('registers, keeps status, follows a rename', async () => {
      const first = await store.registerRoom(room('18445682959392711'));
      expect(first.created).toBe(true);
      expect(first.record).toMatchObject({ botName: bot, roomId: '18445682959392711', roomName: '테스트방', status: 'pending', roomConcurrency: null });
      await store.setRoomStatus(bot, '18445682959392711', 'approved');
      const again = await store.registerRoom(room('18445682959392711', '새 이름'));
      expect(again.created).toBe(false);
      expect(again.record).toMatchObject({ status: 'approved', roomName: '새 이름' });
      expect(await store.getRoom(bot, '18445682959392711')).toMatchObject({ status: 'approved', roomName: '새 이름' });
    });

    it('changes status with reasons and reports a missing room', async () => {
      await store.registerRoom(room('name:테스트방'));
      expect(await store.setRoomStatus(bot, 'name:테스트방', 'blocked', 'spam')).toBe(true);
      expect(await store.getRoom(bot, 'name:테스트방')).toMatchObject({ status: 'blocked', rejectionReason: 'spam', approvedAt: null });
      expect(await store.setRoomStatus(bot, 'missing', 'approved')).toBe(false);
    });

    it('lists with filters', async () => {
      await store.registerRoom(room('2'));
      await store.registerRoom(room('1'));
      await store.setRoomStatus(bot, '2', 'denied', 'no');
      expect((await store.listRooms({ botName: bot })).map((r) => r.roomId)).toEqual(['1', '2']);
      expect((await store.listRooms({ botName: bot, status: 'denied' })).map((r) => r.roomId)).toEqual(['2']);
      expect(await store.listRooms({ botName: bot, status: 'approved' })).toEqual([]);
    });

    it('the change feed sees a change made through another store instance', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2025-07-15T08:00:00.000Z'));
      await store.registerRoom(room('1'));
      await store.registerRoom(room('2'));
      const since = new Date('2025-07-15T08:00:00.500Z');
      const cli = await open();
      vi.setSystemTime(since);
      await cli.setRoomStatus(bot, '2', 'approved');
      const changed = (await store.roomsChangedSince(since)).filter((r) => r.botName === bot);
      expect(changed.map((r) => [r.roomId, r.status])).toEqual([['2', 'approved']]);
    });

    it("finds, updates and lists a room an old deployment keyed `<channelId>_<botName>`, without rewriting it", async () => {
      const db = openInspector(location.url);
      try {
        await db.insertInto('kb_rooms').values({
          room_id: `555_${bot}`, bot_name: bot, room_name: '옛방', status: 'approved', room_concurrency: 2,
          created_at: '2025-01-02 09:00:00.000', updated_at: '2025-01-02 09:00:00.000',
        }).execute();
        expect(await store.getRoom(bot, '555')).toMatchObject({ roomId: '555', roomName: '옛방', status: 'approved', roomConcurrency: 2 });
        expect(await store.registerRoom(room('555', '옛방'))).toMatchObject({ created: false, record: { roomId: '555', status: 'approved' } });
        expect(await store.setRoomStatus(bot, '555', 'denied', 'old')).toBe(true);
        expect((await store.listRooms({ botName: bot })).map((r) => [r.roomId, r.status])).toEqual([['555', 'denied']]);
        const stored = await db.selectFrom('kb_rooms').select(['room_id', 'status']).where('bot_name', '=', bot).execute();
        expect(stored).toEqual([{ room_id: `555_${bot}`, status: 'denied' }]);
      } finally {
        await db.destroy();
      }
    });

    it('reads a room_concurrency that would stall the room as "use the default"', async () => {
      await store.registerRoom(room('1'));
      const db = openInspector(location.url);
      try {
        await db.updateTable('kb_rooms').set({ room_concurrency: 0 }).where('bot_name', '=', bot).execute();
      } finally {
        await db.destroy();
      }
      expect((await store.getRoom(bot, '1'))?.roomConcurrency).toBeNull();
    });

    it('concurrent registrations of one new room make one row', async () => {
      const other = await open();
      const results = await Promise.all([store, other, other, store].map((s) => s.registerRoom(room('42'))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(await store.listRooms({ botName: bot })).toHaveLength(1);
    });
  });

  describe('batch inserts', () => {
    function chatLog(i: number): ChatLogRow {
      return {
        channelId: i % 2 === 0 ? '18445682959392711' : null,
        userHash: i % 3 === 0 ? null : `hash${i}`,
        roomName: '테스트방',
        sender: `홍길동${i}`,
        message: `메시지 ${i}`,
        directive: i % 5 === 0 ? '#echo' : null,
        messageType: 'text',
        isMeaningful: i % 2 === 0,
        botName: bot,
        isMention: i % 7 === 0,
        isGroupChat: true,
        logId: String(3344556677n * 1000n + BigInt(i)),
        clientTimestamp: '2025-07-15 17:00:00',
        serverTimestamp: new Date(Date.UTC(2025, 6, 15, 8, 0, 0, i % 1000)),
        isBot: false,
        isOurBotResponse: i % 4 === 0,
        isScheduled: false,
      };
    }

    it('writes 2,500 chat logs (more bound values than SQLite allows in one statement) with every column', async () => {
      const rows = Array.from({ length: 2_500 }, (_, i) => chatLog(i));
      await store.insertChatLogs(rows);
      const db = openInspector(location.url);
      try {
        const stored = await db.selectFrom('kb_chat_logs').selectAll().where('bot_name', '=', bot).orderBy('id').execute();
        expect(stored).toHaveLength(2_500);
        expect(stored.map((r) => r.sender)).toEqual(rows.map((r) => r.sender));
        const r = stored[14]!;
        expect(r).toMatchObject({
          channel_id: '18445682959392711', user_hash: 'hash14', room_name: '테스트방', sender: '홍길동14', message: '메시지 14',
          directive: null, message_type: 'text', is_meaningful: 1, bot_name: bot, is_mention: 1, is_group_chat: 1,
          log_id: '3344556677014', client_timestamp: '2025-07-15 17:00:00', is_bot: 0, is_our_bot_response: 0, is_scheduled: 0,
        });
        expect(new Date(`${String(r.server_timestamp).replace(' ', 'T')}Z`)).toEqual(new Date(Date.UTC(2025, 6, 15, 8, 0, 0, 14)));
        expect(stored[15]).toMatchObject({ channel_id: null, user_hash: null, directive: '#echo', is_meaningful: 0, is_mention: 0, is_our_bot_response: 0 });
      } finally {
        await db.destroy();
      }
    });

    it('writes a chat log of 65,000 characters unchanged', async () => {
      const long = '가'.repeat(65_000);
      await store.insertChatLogs([{ ...chatLog(1), message: long }]);
      const db = openInspector(location.url);
      try {
        const row = await db.selectFrom('kb_chat_logs').select('message').where('bot_name', '=', bot).executeTakeFirstOrThrow();
        expect(row.message).toBe(long);
      } finally {
        await db.destroy();
      }
    });

    it('writes 2,500 pings with every column', async () => {
      const rows: PingRow[] = Array.from({ length: 2_500 }, (_, i) => ({
        botName: bot, deviceId: `d${i % 3}`, clientIp: '192.168.0.7', pingTimeMs: i, clientTimestamp: 1752566400123 + i,
        serverTimestamp: 1752566400000 + i, totalMemory: 512, memoryUsage: i % 2 === 0 ? 97.3 : null, memoryPercent: 19,
        messageQueueSize: 0, activeRooms: 3,
      }));
      await store.insertPings(rows);
      await store.insertPings([]);
      const db = openInspector(location.url);
      try {
        const stored = await db.selectFrom('kb_ping_monitor').selectAll().where('bot_name', '=', bot).orderBy('id').execute();
        expect(stored).toHaveLength(2_500);
        expect(stored.map((r) => r.ping_time_ms)).toEqual(rows.map((r) => r.pingTimeMs));
        expect(stored[2]).toMatchObject({
          bot_name: bot, device_id: 'd2', client_ip: '192.168.0.7', ping_time_ms: 2, client_timestamp: 1752566400125,
          server_timestamp: 1752566400002, total_memory: 512, memory_usage: 97.3, memory_percent: 19, message_queue_size: 0, active_rooms: 3,
        });
        expect(stored[3]?.memory_usage).toBeNull();
      } finally {
        await db.destroy();
      }
    });
  });

  describe('system samples and retention', () => {
    it('writes a system sample with every column', async () => {
      const server = `srv-${bot}`;
      await store.insertSystemSamples([{
        serverName: server, sampledAt: new Date('2025-07-15T08:00:00.000Z'), cpuPercent: 12.5, memoryTotal: 8_589_934_592,
        memoryUsed: 4_294_967_296, memoryPercent: 50, diskUsagePercent: 61.2, activeConnections: 3, messageQueueSize: 0,
      }]);
      await store.insertSystemSamples([]);
      const db = openInspector(location.url);
      try {
        const row = await db.selectFrom('kb_system_monitor').selectAll().where('server_name', '=', server).executeTakeFirstOrThrow();
        expect(row).toMatchObject({ cpu_percent: 12.5, memory_total: 8_589_934_592, memory_used: 4_294_967_296, memory_percent: 50, disk_usage_percent: 61.2, active_connections: 3, message_queue_size: 0 });
        expect(String(row.created_at)).toMatch(/^2025-07-15 08:00:00/);
      } finally {
        await db.destroy();
      }
    });

    it('deletes rows created before a time, at most a batch per call', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const ping = (deviceId: string): PingRow => ({
        botName: bot, deviceId, clientIp: '10.0.0.1', pingTimeMs: 1, clientTimestamp: 1, serverTimestamp: 2,
        totalMemory: null, memoryUsage: null, memoryPercent: null, messageQueueSize: null, activeRooms: null,
      });
      vi.setSystemTime(new Date('2025-01-01T00:00:00.000Z'));
      await store.insertPings(['old1', 'old2', 'old3'].map(ping));
      vi.setSystemTime(new Date('2025-03-01T00:00:00.000Z'));
      await store.insertPings(['new1'].map(ping));
      const cutoff = new Date('2025-02-01T00:00:00.000Z');
      // Other tests share a MySQL test database's tables only through their own bot names: count ours.
      const ours = async () => {
        const db = openInspector(location.url);
        try {
          return (await db.selectFrom('kb_ping_monitor').select('device_id').where('bot_name', '=', bot).orderBy('id').execute()).map((r) => r.device_id);
        } finally {
          await db.destroy();
        }
      };
      expect(await store.deleteOlderThan('kb_ping_monitor', cutoff, 2)).toBe(2);
      expect(await ours()).toEqual(['old3', 'new1']);
      expect(await store.deleteOlderThan('kb_ping_monitor', cutoff, 2)).toBe(1);
      expect(await store.deleteOlderThan('kb_ping_monitor', cutoff, 2)).toBe(0);
      expect(await ours()).toEqual(['new1']);
    });
  });

  it('rejects calls after close with a coded error', async () => {
    await store.close();
    await store.close();
    await expect(store.getDevice(bot, 'd1')).rejects.toSatisfy((e: unknown) => isBridgeError(e, 'BRIDGE_ERR_STORE_UNAVAILABLE'));
    await expect(store.healthCheck()).rejects.toSatisfy((e: unknown) => isBridgeError(e, 'BRIDGE_ERR_STORE_UNAVAILABLE'));
  });
});
