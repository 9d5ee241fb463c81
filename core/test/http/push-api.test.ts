import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, supportsTestDatabase } from '@botbridge/core/test-support';
import { fingerprint } from '../../src/http/push/push-routes.js';
import { TOKEN, eventually, useAdmin, type AdminFixture } from './admin-harness.js';

const { start, defer } = useAdmin();

/** One store two bridges open in turn (a restart): a SQLite file, or a throwaway MySQL database. */
async function sharedStore(): Promise<string> {
  const fromEnv = process.env.BOTBRIDGE_TEST_STORE;
  if (fromEnv !== undefined && supportsTestDatabase(fromEnv)) {
    const database = await createTestDatabase(fromEnv);
    defer(() => database.drop());
    return database.url;
  }
  const dir = await mkdtemp(join(tmpdir(), 'botbridge-push-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'bridge.db')}`;
}

const BOT = 'LOA.i';
const OTHER_BOT = 'Other.bot';
const DEVICE = 'a1b2c3d4e5f60718';
const CHANNEL = '18445682959392711';
const OTHER_CHANNEL = '18445682959392799';
const SHOP_TOKEN = 'shop-webhook-token-0123456789';

const integrations = [
  { name: 'shop', token: SHOP_TOKEN, bots: [BOT], rooms: [CHANNEL] },
  { name: 'alerts', token: 'alerts-token-abcdefghijklmnop', bots: [OTHER_BOT] },
];

/** POSTs JSON to the real admin server over TCP. */
async function post(fixture: AdminFixture, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fixture.address!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

const admin = { authorization: `Bearer ${TOKEN}` };
const shop = { authorization: `Bearer ${SHOP_TOKEN}` };
const pushPath = (bot: string, room: string) => `/api/bots/${encodeURIComponent(bot)}/rooms/${encodeURIComponent(room)}/messages`;

describe('push API (POST /api/bots/:bot/rooms/:channelId/messages)', () => {
  it('delivers text and media to a connected phone: written, with the trace id and device', async () => {
    const fixture = await start({ listen: true, http: { integrations } });
    const phone = await fixture.client();
    const text = await post(fixture, pushPath(BOT, CHANNEL), { room: '주문방', text: '주문 #1001 접수' }, admin);
    expect(text.status).toBe(200);
    expect(text.body).toEqual({ status: 'written', traceId: expect.any(String), deviceId: DEVICE });
    expect(await phone.nextReply()).toMatchObject({ room: '주문방', channel_id: CHANNEL, bot_name: BOT, text: '주문 #1001 접수' });

    const media = await post(fixture, pushPath(BOT, CHANNEL), { room: '주문방', media: { form: 'url', items: ['https://example.com/a.png'] } }, admin);
    expect(media.body).toMatchObject({ status: 'written' });
    expect(media.body.traceId).not.toBe(text.body.traceId);
    expect((await phone.nextReply()).text).toBe('MEDIA_URL:https://example.com/a.png');

    const both = await post(fixture, pushPath(BOT, CHANNEL), { room: '주문방', text: 'x', media: { form: 'url', items: ['u'] } }, admin);
    expect(both.status).toBe(400);
  });

  it('finds the room name of a known room, and 404s an unknown one', async () => {
    const fixture = await start({ listen: true });
    const phone = await fixture.client();
    // The phone's first message registers the room (auto-approve) with its name.
    phone.analyze({ text: '안녕', channelId: CHANNEL });
    await eventually('room registered', async () => (await fixture.t.bridge.admin.room(BOT, CHANNEL)) !== undefined);
    const res = await post(fixture, pushPath(BOT, CHANNEL), { text: '이름 없이' }, admin);
    expect(res.body).toMatchObject({ status: 'written' });
    expect(await phone.nextReply()).toMatchObject({ room: '테스트방', channel_id: CHANNEL, text: '이름 없이' });
    const unknown = await post(fixture, pushPath(BOT, '999'), { text: '어디?' }, admin);
    expect(unknown.status).toBe(404);
  });

  it('queues for an offline phone and delivers on reconnect', async () => {
    const fixture = await start({ listen: true });
    const phone = await fixture.client();
    await phone.close();
    await eventually('phone gone', () => fixture.t.bridge.clients().length === 0);
    const res = await post(fixture, pushPath(BOT, CHANNEL), { room: '주문방', text: '나중에 받기' }, admin);
    expect(res.body).toEqual({ status: 'queued', traceId: expect.any(String) });
    const back = await fixture.client();
    expect(await back.nextReply()).toMatchObject({ room: '주문방', text: '나중에 받기' });
  });

  it('answers a repeated idempotency key with the first answer and sends once', async () => {
    const fixture = await start({ listen: true, http: { integrations } });
    const phone = await fixture.client();
    const body = { room: '주문방', text: '주문 #2002 결제 완료' };
    // Two concurrent deliveries of one webhook (a retry racing the first attempt), then a late retry.
    const [first, racing] = await Promise.all([
      post(fixture, pushPath(BOT, CHANNEL), body, { ...shop, 'idempotency-key': 'order-2002' }),
      post(fixture, pushPath(BOT, CHANNEL), { ...body, idempotencyKey: 'order-2002' }, shop),
    ]);
    const late = await post(fixture, pushPath(BOT, CHANNEL), body, { ...shop, 'idempotency-key': 'order-2002' });
    const answers = [first, racing, late];
    expect(answers.map((a) => a.body.traceId)).toEqual([first.body.traceId, first.body.traceId, first.body.traceId]);
    expect(answers.filter((a) => a.body.replayed === true)).toHaveLength(2);
    expect(late.headers.get('idempotent-replayed')).toBe('true');
    expect(late.body).toMatchObject({ status: 'written', deviceId: DEVICE });
    expect((await phone.nextReply()).text).toBe('주문 #2002 결제 완료');
    await expect(phone.nextReply(300)).rejects.toThrow();

    // Same key, other content: a conflict, nothing sent. Another caller's same key is its own.
    const conflict = await post(fixture, pushPath(BOT, CHANNEL), { ...body, text: '다른 내용' }, { ...shop, 'idempotency-key': 'order-2002' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toBe('BRIDGE_ERR_HTTP_IDEMPOTENCY_CONFLICT');
    const mismatch = await post(fixture, pushPath(BOT, CHANNEL), { ...body, idempotencyKey: 'a' }, { ...shop, 'idempotency-key': 'b' });
    expect(mismatch.status).toBe(400);
    const asAdmin = await post(fixture, pushPath(BOT, CHANNEL), body, { ...admin, 'idempotency-key': 'order-2002' });
    expect(asAdmin.body.replayed).toBeUndefined();
    expect((await phone.nextReply()).text).toBe('주문 #2002 결제 완료');
    await expect(phone.nextReply(300)).rejects.toThrow();
  });

  it('remembers idempotency keys across a restart on the same store, and never re-sends an interrupted one', async () => {
    const url = await sharedStore();
    const body = { room: '주문방', text: '주문 #3003 배송 시작' };
    const first = await start({ listen: true, config: { store: { url } } });
    const phone = await first.client();
    const sent = await post(first, pushPath(BOT, CHANNEL), body, { ...admin, 'idempotency-key': 'order-3003' });
    expect(sent.body).toMatchObject({ status: 'written' });
    expect((await phone.nextReply()).text).toBe('주문 #3003 배송 시작');
    await phone.close();
    await first.admin.close();
    await first.t.close();

    const second = await start({ listen: true, config: { store: { url } } });
    const back = await second.client();
    const retried = await post(second, pushPath(BOT, CHANNEL), body, { ...admin, 'idempotency-key': 'order-3003' });
    expect(retried.body).toEqual({ ...sent.body, replayed: true });
    const other = await post(second, pushPath(BOT, CHANNEL), { ...body, text: '다른 내용' }, { ...admin, 'idempotency-key': 'order-3003' });
    expect(other.status).toBe(409);

    // A run that claimed a key and died before recording the result: the send may have happened.
    const target = { botName: BOT, room: '주문방', channelId: CHANNEL, deviceId: null };
    const keys = second.t.bridge.admin.pushKeys();
    await keys.claimPushKey('', 'order-4004', fingerprint(target, { kind: 'text', text: '주문 #4004' }), new Date(), new Date(Date.now() + 60_000));
    const interrupted = await post(second, pushPath(BOT, CHANNEL), { room: '주문방', text: '주문 #4004' }, { ...admin, 'idempotency-key': 'order-4004' });
    expect(interrupted.status).toBe(409);
    expect(interrupted.body.error).toBe('BRIDGE_ERR_HTTP_IDEMPOTENCY_UNKNOWN');
    await expect(back.nextReply(300)).rejects.toThrow();
    // An expired key is free again; the prune deletes keys past their window, and only those.
    await keys.claimPushKey('', 'old', 'x', new Date(Date.now() - 120_000), new Date(Date.now() - 60_000));
    expect(await keys.claimPushKey('', 'old', 'y', new Date(), new Date(Date.now() + 60_000))).toBe(true);
    expect(await keys.prunePushKeys(new Date(Date.now() + 120_000))).toBe(2);
    expect(await keys.getPushKey('', 'order-3003')).toMatchObject({ result: expect.stringContaining('"written"') });
  });

  it('limits an integration token to its bots and rooms (403) and refuses unknown tokens (401)', async () => {
    const fixture = await start({ listen: true, http: { integrations } });
    const phone = await fixture.client();
    const allowed = await post(fixture, pushPath(BOT, CHANNEL), { room: '주문방', text: '허용' }, shop);
    expect(allowed.body).toMatchObject({ status: 'written' });
    expect((await phone.nextReply()).text).toBe('허용');

    const otherBot = await post(fixture, pushPath(OTHER_BOT, CHANNEL), { room: '주문방', text: '금지' }, shop);
    expect(otherBot.status).toBe(403);
    expect(otherBot.body).toMatchObject({ error: 'BRIDGE_ERR_HTTP_FORBIDDEN' });
    const otherRoom = await post(fixture, pushPath(BOT, OTHER_CHANNEL), { room: '다른방', text: '금지' }, shop);
    expect(otherRoom.status).toBe(403);
    // The alias applies the same limits.
    const alias = await post(fixture, '/api/send', { botName: OTHER_BOT, room: '주문방', channelId: CHANNEL, text: '금지' }, shop);
    expect(alias.status).toBe(403);
    const aliasOk = await post(fixture, '/api/send', { botName: BOT, room: '주문방', channelId: CHANNEL, text: '별칭' }, shop);
    expect(aliasOk.body).toMatchObject({ status: 'written', traceId: expect.any(String) });
    expect((await phone.nextReply()).text).toBe('별칭');

    const wrong = await post(fixture, pushPath(BOT, CHANNEL), { room: '주문방', text: '금지' }, { authorization: 'Bearer not-a-known-token-0000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'BRIDGE_ERR_HTTP_UNAUTHORIZED' });
    const missing = await post(fixture, pushPath(BOT, CHANNEL), { room: '주문방', text: '금지' });
    expect(missing.status).toBe(401);
    // An integration token opens the push routes only.
    const clients = await fetch(`${fixture.address!.url}/api/clients`, { headers: shop });
    expect(clients.status).toBe(401);
    await expect(phone.nextReply(300)).rejects.toThrow();
  });

  it('refuses an integration whose token is short or is the admin token', async () => {
    await expect(start({ http: { integrations: [{ name: 'x', token: TOKEN, bots: [BOT] }] } })).rejects.toThrow(/admin token/);
  });
});
