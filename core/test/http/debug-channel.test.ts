import { describe, expect, it } from 'vitest';
import { CORE_EVENT_NAMES, definePlugin } from '@botbridge/sdk';
import { BEARER, eventually, TOKEN, useAdmin, type AdminFixture } from './admin-harness.js';
import { DebugWs } from './ws-client.js';

const { start, defer } = useAdmin();

const BOT = 'LOA.i';
const DEVICE = 'a1b2c3d4e5f60718';
const OTHER = 'ffffeeeeddddcccc';
const CHANNEL = '18445682959392711';

const echo = definePlugin({
  name: 'echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => `에코: ${message.text}`);
  },
});

function wsUrl(fixture: AdminFixture, query = ''): string {
  return `${fixture.address!.url.replace('http', 'ws')}/api/debug${query}`;
}

async function open(fixture: AdminFixture, headers: Record<string, string> = BEARER, query = ''): Promise<DebugWs> {
  const ws = await DebugWs.open(wsUrl(fixture, query), headers);
  defer(() => ws.close());
  return ws;
}

describe('WebSocket debug channel', () => {
  it('requires the token and a same origin at the upgrade', async () => {
    const fixture = await start({ listen: true });
    const refused = (headers: Record<string, string>, query = '') => DebugWs.open(wsUrl(fixture, query), headers).then(() => 0, (e: { status?: number }) => e.status ?? -1);
    expect(await refused({})).toBe(401);
    expect(await refused({ authorization: 'Bearer not-the-token-at-all' })).toBe(401);
    expect(await refused({}, '?token=wrong')).toBe(401);
    expect(await refused({ ...BEARER, origin: 'https://evil.example' })).toBe(403);

    const viaHeader = await open(fixture);
    expect(await viaHeader.next((m) => m.type === 'hello')).toMatchObject({ type: 'hello', events: expect.arrayContaining(['connection:open', 'queue:stats']) });
    const viaQuery = await open(fixture, {}, `?token=${TOKEN}`);
    await viaQuery.next((m) => m.type === 'hello');
    const sameOrigin = await open(fixture, { ...BEARER, origin: fixture.address!.url });
    await sameOrigin.next((m) => m.type === 'hello');
  });

  it('streams a message from arrival to its reply under one trace id, filtered by device on the server', async () => {
    const fixture = await start({ listen: true, plugins: [echo] });
    const ws = await open(fixture);
    ws.send({ type: 'subscribe', device: DEVICE });
    await ws.next((m) => m.type === 'subscribed');

    const other = await fixture.client({ deviceId: OTHER });
    const phone = await fixture.client();
    await other.shouldReply('남의 메시지', '에코: 남의 메시지');
    await phone.shouldReply('내 메시지', '에코: 내 메시지');
    const finished = await ws.next((m) => m.name === 'message:finished');

    const traceId = finished.traceId as string;
    const trace = ws.events().filter((m) => m.traceId === traceId).map((m) => m.name);
    expect(trace).toEqual(['message:admitted', 'message:started', 'message:routed', 'plugin:handler', 'reply:queued', 'reply:sent', 'reply:result', 'message:finished']);
    expect(ws.events('message:admitted')[0]).toMatchObject({ traceId, data: { botName: BOT, deviceId: DEVICE, text: '내 메시지', room: '테스트방' } });
    expect(ws.events('reply:sent')[0]).toMatchObject({ traceId, data: { ok: true, text: '에코: 내 메시지', deviceId: DEVICE } });
    expect(ws.events('connection:handshake').map((m) => (m.data as { deviceId: string }).deviceId)).toEqual([DEVICE]);
    // Nothing of the other device's trace crossed the socket (it finished before ours started).
    expect(JSON.stringify(ws.received)).not.toContain('남의 메시지');
    expect(ws.events().every((m) => !('bridge' in (m.data as object)))).toBe(true);
  });

  it('injects a synthetic message as a device: full pipeline, real reply to the live device, traced events', async () => {
    const fixture = await start({ listen: true, plugins: [echo] });
    const phone = await fixture.client();
    const ws = await open(fixture);
    ws.send({ type: 'subscribe', events: ['message:admitted', 'reply:sent', 'message:finished'] });
    await ws.next((m) => m.type === 'subscribed');
    ws.send({ type: 'inject', id: 'req-1', message: { botName: BOT, deviceId: DEVICE, room: '테스트방', channelId: CHANNEL, text: '# echo 샌드박스', sender: '운영자' } });
    const answer = await ws.next((m) => m.type === 'injected');
    expect(answer).toMatchObject({ id: 'req-1', traceId: expect.any(String), dropped: null });

    const reply = await phone.nextReply();
    expect(reply).toMatchObject({ room: '테스트방', channel_id: CHANNEL, text: '에코: # echo 샌드박스' });
    const sent = await ws.next((m) => m.name === 'reply:sent');
    expect(sent).toMatchObject({ traceId: answer.traceId, data: { ok: true, deviceId: DEVICE, text: '에코: # echo 샌드박스' } });
    expect(ws.events('message:admitted')[0]).toMatchObject({ traceId: answer.traceId, data: { sender: '운영자' } });

    ws.send({ type: 'inject', id: 'req-2', message: { botName: BOT, deviceId: DEVICE, room: '테스트방', text: '' } });
    expect(await ws.next((m) => m.id === 'req-2')).toMatchObject({ type: 'error', code: 'BRIDGE_ERR_HTTP_BAD_REQUEST' });
  });

  it('answers malformed messages with coded errors and closes a socket over the payload limit', async () => {
    const fixture = await start({ listen: true, http: { wsMaxPayloadBytes: 1_024 } });
    const ws = await open(fixture);
    ws.send('not json');
    expect(await ws.next((m) => m.type === 'error')).toMatchObject({ code: 'BRIDGE_ERR_HTTP_BAD_REQUEST' });
    ws.send({ type: 'subscribe', events: ['no:such'] });
    await eventually('second error', () => ws.received.filter((m) => m.type === 'error').length === 2);
    expect(ws.received.filter((m) => m.type === 'subscribed')).toEqual([]);
    ws.send({ type: 'subscribe', bot: 'x'.repeat(2_000) });
    expect(await ws.closed).toBe(1009);
  });

  it('sends queue stats periodically with throughput and latency figures', async () => {
    const fixture = await start({ listen: true, plugins: [echo], http: { statsIntervalMs: 50 } });
    const ws = await open(fixture);
    ws.send({ type: 'subscribe', events: ['queue:stats'] });
    const phone = await fixture.client();
    await phone.shouldReply('하나', '에코: 하나');
    await eventually('two stats ticks after the message', () => ws.events('queue:stats').length >= 3);
    const stats = ws.events('queue:stats').map((m) => m.data as Record<string, unknown>);
    expect(stats.at(-1)).toMatchObject({ queued: 0, running: 0, clients: 1, totals: { admitted: 1, repliesSent: 1, completed: 1 } });
    expect(stats.some((s) => (s.processingMs as { count: number }).count === 1)).toBe(true);
    expect(stats.some((s) => (s.perSecond as { admitted: number }).admitted > 0)).toBe(true);
    expect(ws.events().every((m) => m.name === 'queue:stats')).toBe(true);
  });

  it('subscribes to the event channels only while a client wants them (the hot path pays nothing otherwise)', async () => {
    const fixture = await start({ listen: true, http: { metrics: false } });
    const { events } = fixture.t.bridge;
    // bridge:closing is published once per process (not the hot path): the channel listens to
    // it while any client is connected, to send the closing notice.
    const active = () => CORE_EVENT_NAMES.filter((name) => name !== 'bridge:closing' && events.active(name));
    expect(active()).toEqual([]);
    expect(events.active('bridge:closing')).toBe(false);

    const first = await open(fixture);
    await first.next((m) => m.type === 'hello');
    expect(active()).toEqual([]);
    expect(events.active('bridge:closing')).toBe(true);
    first.send({ type: 'subscribe', events: ['connection:open', 'reply:sent'] });
    await first.next((m) => m.type === 'subscribed');
    expect(active().sort()).toEqual(['connection:open', 'reply:sent']);

    const second = await open(fixture);
    second.send({ type: 'subscribe', events: ['reply:sent', 'queue:stats'], bot: BOT });
    await second.next((m) => m.type === 'subscribed');
    // queue:stats listens to the two events it summarises; the bot filter follows traces from message:admitted.
    expect(active().sort()).toEqual(['connection:open', 'message:admitted', 'message:finished', 'message:started', 'reply:sent']);

    first.send({ type: 'subscribe', events: ['ping'] });
    await eventually('re-subscribed', () => first.received.filter((m) => m.type === 'subscribed').length === 2);
    expect(active().sort()).toEqual(['message:admitted', 'message:finished', 'message:started', 'ping', 'reply:sent']);

    await first.close();
    await eventually('first client released', () => !events.active('ping'));
    await second.close();
    await eventually('all released', () => active().length === 0);
    expect(active()).toEqual([]);
    await eventually('closing notice released', () => !events.active('bridge:closing'));
  });

  it('refuses clients beyond wsMaxClients', async () => {
    const fixture = await start({ listen: true, http: { wsMaxClients: 1 } });
    const first = await open(fixture);
    await first.next((m) => m.type === 'hello');
    const second = await open(fixture);
    expect(await second.closed).toBe(1013);
    await first.close();
    const third = await open(fixture);
    await third.next((m) => m.type === 'hello');
  });
});
