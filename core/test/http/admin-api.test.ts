import { describe, expect, it } from 'vitest';
import { definePlugin, type ClientInfo } from '@botbridge/sdk';
import { BEARER, eventually, useAdmin } from './admin-harness.js';

const { start } = useAdmin();

const BOT = 'LOA.i';
const DEVICE = 'a1b2c3d4e5f60718';
const CHANNEL = '18445682959392711';

const echo = definePlugin({
  name: 'echo',
  version: '1.2.3',
  setup(ctx) {
    ctx.onMessage(({ message }) => `에코: ${message.text}`);
  },
});

/** Marks every outgoing reply, so a test can see that a send went through beforeReply. */
const stamp = definePlugin({
  name: 'stamp',
  setup(ctx) {
    ctx.beforeReply((out) => (out.reply.kind === 'text' ? { ...out, reply: { kind: 'text', text: `${out.reply.text} ✓` } } : out));
  },
});

describe('admin REST API', () => {
  it('lists connected clients with address, version, ping and pending output', async () => {
    const { admin, client } = await start({ config: { session: { pingIntervalMs: 100, pingJitterMs: 0 } } });
    const phone = await client();
    await phone.nextPacket('ping');
    let clients: ClientInfo[] = [];
    await eventually('a ping round trip recorded', async () => {
      clients = (await admin.app.inject({ url: '/api/clients', headers: BEARER })).json();
      return clients[0]?.rttMs !== null && clients[0]?.rttMs !== undefined;
    });
    expect(clients).toHaveLength(1);
    expect(clients[0]).toMatchObject({
      botName: BOT,
      deviceId: DEVICE,
      version: '3.2.1',
      protocol: 'v3.2',
      remoteAddress: '127.0.0.1',
      approval: 'approved',
      pendingOutputBytes: 0,
    });
    expect(clients[0]!.lastPingAt).toBeGreaterThan(clients[0]!.connectedAt - 1);
  });

  it('approves a pending device and room with immediate effect, and denial disconnects', async () => {
    const { admin, t, client } = await start({ plugins: [echo], autoApprove: false });
    const phone = await client();
    await phone.shouldNotReply({ text: '첫 메시지', channelId: CHANNEL });
    const pendingDevices = (await admin.app.inject({ url: '/api/devices?status=pending', headers: BEARER })).json();
    expect(pendingDevices).toMatchObject([{ botName: BOT, deviceId: DEVICE, status: 'pending', connected: true }]);
    const pendingRooms = (await admin.app.inject({ url: `/api/rooms?status=pending&bot=${encodeURIComponent(BOT)}`, headers: BEARER })).json();
    expect(pendingRooms).toMatchObject([{ botName: BOT, roomId: CHANNEL, roomName: '테스트방', status: 'pending' }]);

    const device = await admin.app.inject({ method: 'POST', url: `/api/devices/${BOT}/${DEVICE}/approve`, headers: BEARER });
    expect(device.json()).toEqual({ status: 'approved' });
    const room = await admin.app.inject({ method: 'POST', url: `/api/rooms/${BOT}/${CHANNEL}/approve`, headers: BEARER, payload: { reason: 'ok by test' } });
    expect(room.json()).toEqual({ status: 'approved' });
    // No reconnect and no refresh period: the very next message is answered.
    await phone.shouldReply({ text: '안녕', channelId: CHANNEL }, '에코: 안녕');

    const missing = await admin.app.inject({ method: 'POST', url: `/api/devices/${BOT}/nope/approve`, headers: BEARER });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'BRIDGE_ERR_HTTP_NOT_FOUND' });

    await admin.app.inject({ method: 'POST', url: `/api/devices/${BOT}/${DEVICE}/block`, headers: BEARER, payload: { reason: 'stolen phone' } });
    await phone.closed;
    await eventually('client gone', () => t.bridge.clients().length === 0);
    const blocked = (await admin.app.inject({ url: '/api/devices?status=blocked', headers: BEARER })).json();
    expect(blocked).toMatchObject([{ deviceId: DEVICE, status: 'blocked', rejectionReason: 'stolen phone', connected: false }]);
  });

  it('sends a message to a room as a bot, through beforeReply', async () => {
    const { admin, client } = await start({ plugins: [stamp] });
    const phone = await client();
    const res = await admin.app.inject({ method: 'POST', url: '/api/send', headers: BEARER, payload: { botName: BOT, room: '공지방', channelId: CHANNEL, text: '점검 안내' } });
    expect(res.json()).toMatchObject({ status: 'written', deviceId: DEVICE });
    const reply = await phone.nextReply();
    expect(reply).toMatchObject({ room: '공지방', channel_id: CHANNEL, bot_name: BOT, text: '점검 안내 ✓' });
    const noBot = await admin.app.inject({ method: 'POST', url: '/api/send', headers: BEARER, payload: { botName: 'other', room: 'r', text: 'x' } });
    expect(noBot.json()).toMatchObject({ status: 'rejected', reason: 'no_client' });
  });

  it('answers queued when the bot\'s devices are offline, and shows the outbox in the stats', async () => {
    const { admin, t, client } = await start();
    const phone = await client();
    await phone.close();
    await eventually('phone gone', () => t.bridge.clients().length === 0);
    const res = await admin.app.inject({ method: 'POST', url: '/api/send', headers: BEARER, payload: { botName: BOT, room: '공지방', channelId: CHANNEL, text: '나중에' } });
    expect(res.json()).toEqual({ status: 'queued', traceId: expect.any(String) });
    const stats = (await admin.app.inject({ url: '/api/stats', headers: BEARER })).json();
    expect(stats.outbox).toEqual({ queued: 1, rooms: 1 });
    expect(stats.counters['replies{queued}']).toBe(1);
    const back = await client();
    expect((await back.nextReply()).text).toBe('나중에');
  });

  it('disconnects a client on request', async () => {
    const { admin, t, client } = await start();
    const phone = await client();
    const res = await admin.app.inject({ method: 'POST', url: `/api/clients/${BOT}/${DEVICE}/disconnect`, headers: BEARER });
    expect(res.json()).toEqual({ disconnected: true });
    await phone.closed;
    await eventually('disconnect counted', () => t.bridge.admin.counters.get('disconnects', 'BRIDGE_ERR_ADMIN_DISCONNECT') === 1);
    const again = await admin.app.inject({ method: 'POST', url: `/api/clients/${BOT}/${DEVICE}/disconnect`, headers: BEARER });
    expect(again.statusCode).toBe(404);
  });

  it('reports queue and dispatcher stats, and plugins with their state', async () => {
    const { admin, client } = await start({ plugins: [echo] });
    const phone = await client();
    await phone.shouldReply('하나', '에코: 하나');
    const stats = (await admin.app.inject({ url: '/api/stats', headers: BEARER })).json();
    expect(stats).toMatchObject({ phase: 'running', connections: 1, clients: 1, saturated: false, dispatcher: { queued: 0, running: 0 } });
    expect(stats.dispatcher.totals.completed).toBe(1);
    expect(stats.counters['messages{admitted}']).toBe(1);
    const plugins = (await admin.app.inject({ url: '/api/plugins', headers: BEARER })).json();
    expect(plugins).toEqual([{ name: 'echo', version: '1.2.3', state: 'running', error: null, generation: 1, messages: 1, replies: 1, errors: 0, lastError: null }]);
  });

  it('injects a sandbox message over HTTP; the live device gets the reply', async () => {
    const { admin, client } = await start({ plugins: [echo] });
    const phone = await client();
    const res = await admin.app.inject({ method: 'POST', url: '/api/inject', headers: BEARER, payload: { botName: BOT, deviceId: DEVICE, room: '테스트방', channelId: CHANNEL, text: '# echo 샌드박스' } });
    expect(res.json()).toEqual({ traceId: expect.any(String) });
    expect((await phone.nextReply()).text).toBe('에코: # echo 샌드박스');
    const empty = await admin.app.inject({ method: 'POST', url: '/api/inject', headers: BEARER, payload: { botName: BOT, deviceId: DEVICE, room: 'r', text: '' } });
    expect(empty.statusCode).toBe(400);
  });

  it('readiness follows the store and the listener', async () => {
    const { admin, t } = await start();
    expect((await admin.app.inject({ url: '/ready' })).statusCode).toBe(200);
    await t.bridge.close();
    const down = await admin.app.inject({ url: '/ready' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ ready: false, listener: 'down' });
    expect((await admin.app.inject({ url: '/health' })).statusCode).toBe(200);
  });
});
