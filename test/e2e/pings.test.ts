import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { definePlugin, type BridgeEventMap } from '@botbridge/sdk';
import {
  analyzeLine,
  authBlockFor,
  BOT,
  counter,
  DEVICE,
  echoPlugin,
  eventually,
  expectCounter,
  expectNoClients,
  fastSession,
  legacyTwinOf,
  signedAnalyze,
  sleep,
  useBridges,
} from './helpers.js';

/** PROTOCOL.md §6 (ping) and §7 (silent client detection), with a 200 ms ping interval. */

const { bridge, tempDir } = useBridges();
const config = { session: fastSession };

interface PingMonitorRow {
  bot_name: string;
  device_id: string;
  client_ip: string;
  ping_time_ms: number;
  client_timestamp: number;
  server_timestamp: number;
  total_memory: number | null;
  memory_usage: number | null;
  memory_percent: number | null;
  message_queue_size: number | null;
  active_rooms: number | null;
}

describe('server pings', () => {
  it('sends pings in the §6 shape', async () => {
    const t = await bridge({ config });
    const phone = await t.client();
    const before = Date.now();
    const packet = await phone.nextPacket('ping');
    expect(Object.keys(packet)).toEqual(['event', 'data']);
    const data = packet.data as Record<string, unknown>;
    expect(Object.keys(data)).toEqual(['bot_name', 'device_id', 'server_timestamp', 'is_manual', 'server_info']);
    expect(data).toEqual({
      bot_name: BOT,
      device_id: DEVICE,
      server_timestamp: expect.any(Number),
      is_manual: false,
      server_info: { total_clients: 1, timestamp: expect.any(Number) },
    });
    expect(Number.isInteger(data.server_timestamp)).toBe(true);
    expect(Math.abs((data.server_timestamp as number) - before)).toBeLessThan(60_000);
  });

  it('reports the number of connected clients in server_info.total_clients', async () => {
    const t = await bridge({ config });
    await t.client({ deviceId: '1111111111111111' });
    const second = await t.client({ deviceId: '2222222222222222' });
    await eventually('a ping that sees both clients', async () => {
      const ping = (await second.nextPacket('ping')).data as { server_info: { total_clients: number } };
      return ping.server_info.total_clients === 2;
    });
  });

  it('records answered pings: the ping event fires, clients() shows the RTT, kb_ping_monitor gets a row', async () => {
    const dir = await tempDir();
    const file = join(dir, 'pings.db');
    const seen: BridgeEventMap['ping'][] = [];
    const t = await bridge({
      config: { ...config, store: { url: `sqlite:${file}` } },
      plugins: [definePlugin({ name: 'ping-spy', setup: (ctx) => ctx.on('ping', (ping) => void seen.push(ping)) })],
    });
    const phone = await t.client();
    phone.analyze({ text: 'a', channelId: '1' });
    phone.analyze({ text: 'b', channelId: '2' });
    await eventually('two answered pings', () => seen.length >= 2);

    const last = seen.at(-1)!;
    expect(last.rttMs).toBeGreaterThanOrEqual(0);
    expect(last).toMatchObject({ botName: BOT, deviceId: DEVICE, remoteAddress: '127.0.0.1', serverTimestamp: expect.any(Number) });
    expect(last.monitoring).toEqual({ totalMemory: 512, memoryUsage: 97.3, memoryPercent: 19, messageQueueSize: 0, activeRooms: 2 });
    expect(t.bridge.admin.clients()[0]).toMatchObject({ rttMs: expect.any(Number), lastPingAt: expect.any(Number), monitoring: last.monitoring });
    expect(counter(t, 'pings_answered')).toBeGreaterThanOrEqual(2);

    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      let rows: PingMonitorRow[] = [];
      await eventually('rows in kb_ping_monitor', () => {
        rows = db.prepare('SELECT * FROM kb_ping_monitor ORDER BY id').all() as PingMonitorRow[];
        return rows.length >= 2;
      });
      for (const row of rows) {
        expect(row).toMatchObject({
          bot_name: BOT,
          device_id: DEVICE,
          client_ip: '127.0.0.1',
          total_memory: 512,
          memory_usage: 97.3,
          memory_percent: 19,
          message_queue_size: 0,
        });
        expect(row.ping_time_ms).toBeGreaterThanOrEqual(0);
        expect(row.server_timestamp).toBeGreaterThanOrEqual(row.client_timestamp);
      }
      expect(rows.at(-1)!.active_rooms).toBe(2);
      const echoed = phone.pings.map((p) => p.server_timestamp);
      expect(echoed).toContain(rows[0]!.client_timestamp);
    } finally {
      db.close();
    }
  });
});

describe('silent clients', () => {
  it('closes a client that answers no ping and sends nothing after 3 intervals', async () => {
    const t = await bridge({ config });
    const phone = await t.client({ autoPong: false });
    const connectedAt = Date.now();
    await phone.closed;
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(3 * fastSession.pingIntervalMs - 50);
    expect(phone.pings.length).toBeGreaterThanOrEqual(2);
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_SILENT_CLIENT', 1);
    await expectNoClients(t);
  });

  it('keeps a client that answers pings', async () => {
    const t = await bridge({ config });
    const phone = await t.client();
    await sleep(6 * fastSession.pingIntervalMs);
    expect(phone.closeReason).toBeNull();
    expect(phone.pings.length).toBeGreaterThanOrEqual(4);
  });

  it('keeps a client that does not answer pings but stays chatty', async () => {
    const t = await bridge({ config });
    const phone = await t.client({ autoPong: false });
    for (let i = 0; i < 12; i++) {
      phone.analyze(`chat ${i}`);
      await sleep(fastSession.pingIntervalMs / 2);
    }
    expect(phone.closeReason).toBeNull();
    expect(phone.pings.length).toBeGreaterThanOrEqual(4);
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_SILENT_CLIENT', 0);
  });
});

describe('ping answers that do not belong to this connection', () => {
  it('ignores an answer echoing a ping never sent on this connection (a queued answer from before a reconnect)', async () => {
    const seen: BridgeEventMap['ping'][] = [];
    const t = await bridge({
      config: { session: { ...fastSession, pingIntervalMs: 60_000, pingJitterMs: 60_000 } },
      plugins: [
        definePlugin({ name: 'ping-spy', setup: (ctx) => ctx.on('ping', (ping) => void seen.push(ping)) }),
      ],
    });
    const phone = await t.client({ autoPong: false });
    const stale = Date.now() - 45_000;
    phone.sendRaw(`${JSON.stringify({ event: 'ping', data: { bot_name: BOT, server_timestamp: stale, monitoring: null, auth: authBlockFor(BOT, DEVICE) } })}\n`);
    await expectCounter(t, 'pings_ignored', 'not_sent_here', 1);
    expect(counter(t, 'pings_answered')).toBe(0);
    expect(seen).toHaveLength(0);
    expect(t.bridge.clients()[0]!.rttMs).toBeNull();
  });
});

describe('empty chat text', () => {
  it('drops a legacy twin with empty text (the legacy entry point has no empty check) and counts it', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.sendRaw(analyzeLine(legacyTwinOf(signedAnalyze({ text: '' }))));
    await expectCounter(t, 'messages_rejected', 'empty_text', 1);
    await phone.shouldReply('next', '에코: next');
  });
});
