import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, ROOM_ID, ROOM_NAME, logRows, registerRoom, sharedStore, startBridge, type SchedBridge } from './harness.js';

// 2026-12-07 is a Monday. Times are Asia/Seoul (UTC+9) wall clock.
const KST = (time: string, day = '2026-12-07') => `${day}T${time}+09:00`;

/** A JSON column as read back: a string (SQLite, MariaDB) or already parsed (mysql2 on MySQL's JSON type). */
const json = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

let store: { url: string; drop(): Promise<void> };
let open: SchedBridge[] = [];

beforeEach(async () => {
  store = await sharedStore();
  open = [];
});

afterEach(async () => {
  for (const b of open) await b.t.close().catch(() => undefined);
  await store.drop();
});

async function start(clock: ManualClock, config: Record<string, unknown> = {}): Promise<SchedBridge> {
  const b = await startBridge(store.url, clock, config);
  open.push(b);
  return b;
}

async function stop(b: SchedBridge): Promise<void> {
  open = open.filter((o) => o !== b);
  await b.t.close();
}

describe('scheduler over kb_schedule', () => {
  it('a daily schedule fires once in its minute across two restarts, and again the next day', async () => {
    const clock = new ManualClock(Date.parse(KST('08:59:30')));
    let b = await start(clock);
    await registerRoom(b.database, 'LOA.i');
    const created = await b.schedules.create({ title: '아침 공지', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['09:00'], text: '좋은 아침입니다' });
    expect(created.nextSendAt).toBe(new Date(KST('09:00:00')).toISOString());
    let phone = await b.t.client();

    clock.set(KST('09:00:02'));
    expect(await b.schedules.runDue()).toMatchObject({ sent: 1 });
    const [reply] = await phone.waitForReplies(1);
    expect(reply).toMatchObject({ room: ROOM_NAME, text: '좋은 아침입니다', channel_id: ROOM_ID });

    // Two restarts within the same minute: nothing more is sent.
    for (const at of ['09:00:20', '09:00:45']) {
      await stop(b);
      clock.set(KST(at));
      b = await start(clock);
      phone = await b.t.client();
      expect(await b.schedules.runDue()).toMatchObject({ sent: 0 });
    }
    const view = await b.schedules.get(created.id);
    expect(view).toMatchObject({ sendCount: 1, nextSendAt: new Date(KST('09:00:00', '2026-12-08')).toISOString(), status: 'active' });
    expect(view?.lastSentAt).toBe(new Date(KST('09:00:02')).toISOString());
    let logs = await logRows(b.database, created.id);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ status: 'success', error_message: null, send_components: 'text' });
    expect(json(logs[0]!.api_response)).toMatchObject({ result: 'written', parts: [{ component: 'text', status: 'written' }] });
    expect(phone.replies).toHaveLength(0);

    // The next day.
    clock.set(KST('09:00:01', '2026-12-08'));
    expect(await b.schedules.runDue()).toMatchObject({ sent: 1 });
    await phone.waitForReplies(1);
    logs = await logRows(b.database, created.id);
    expect(logs).toHaveLength(2);
    expect(await b.schedules.get(created.id)).toMatchObject({ sendCount: 2, nextSendAt: new Date(KST('09:00:00', '2026-12-09')).toISOString() });
  });

  it('two bridges on one database send a due schedule exactly once', async () => {
    const clock = new ManualClock(Date.parse(KST('11:59:00')));
    const a = await start(clock);
    const b = await start(clock);
    await registerRoom(a.database, 'LOA.i');
    const phoneA = await a.t.client({ deviceId: 'aaaa000000000001' });
    const phoneB = await b.t.client({ deviceId: 'bbbb000000000002' });
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push((await a.schedules.create({ title: `s${i}`, botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['12:00'], text: `공지 ${i}` })).id);
    }
    clock.set(KST('12:00:01'));
    // Both poll at once, several times, as two processes would.
    const reports = await Promise.all([a.schedules.runDue(), b.schedules.runDue(), a.schedules.runDue(), b.schedules.runDue()]);
    expect(reports.reduce((n, r) => n + r.sent, 0)).toBe(5);
    await expect.poll(() => phoneA.replies.length + phoneB.replies.length, { timeout: 10_000 }).toBe(5);
    // And no sixth one after a moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(phoneA.replies.length + phoneB.replies.length).toBe(5);
    expect(new Set([...phoneA.replies, ...phoneB.replies].map((r) => r.text)).size).toBe(5);
    const sentBy = async (x: SchedBridge) => (await x.t.bridge.metricsRegistry.getSingleMetric('botbridge_scheduler_occurrences_total')!.get()).values
      .filter((v) => v.labels.outcome === 'sent').reduce((n, v) => n + v.value, 0);
    expect((await sentBy(a)) + (await sentBy(b))).toBe(5);
    for (const id of ids) {
      expect(await logRows(a.database, id)).toHaveLength(1);
      expect(await a.schedules.get(id)).toMatchObject({ sendCount: 1 });
    }
  });

  it('a schedule due while the server was down follows its catch-up policy', async () => {
    const clock = new ManualClock(Date.parse(KST('08:00:00')));
    let b = await start(clock);
    await registerRoom(b.database, 'LOA.i');
    const late = await b.schedules.create({ title: 'late ok', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['09:00'], text: '늦어도 보냄', catchUpSeconds: 600 });
    const strict = await b.schedules.create({ title: 'skip', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['09:00'], text: '늦으면 건너뜀', catchUpSeconds: 0 });
    const byDefault = await b.schedules.create({ title: 'default', botName: 'LOA.i', roomId: ROOM_ID, type: 'once', date: '2026-12-07', times: ['08:30:00'], text: '기본 창 (300초)' });
    await (await b.t.client()).close(); // the bot's phone is known (approved) before the outage
    await stop(b);

    // Down from 08:00 to 09:05.
    clock.set(KST('09:05:00'));
    b = await start(clock);
    // The first poll runs as the bridge starts (before any phone is back: the late one is queued).
    await b.schedules.runDue();
    const phone = await b.t.client();
    const [reply] = await phone.waitForReplies(1);
    expect(reply?.text).toBe('늦어도 보냄');

    expect(await logRows(b.database, late.id)).toMatchObject([{ status: 'success' }]);
    const [skipped] = await logRows(b.database, strict.id);
    expect(skipped).toMatchObject({ status: 'failed' });
    expect(String(skipped!.error_message)).toMatch(/^skipped: .* 300 s late, beyond its catch-up window of 60 s/);
    expect(await b.schedules.get(strict.id)).toMatchObject({ sendCount: 0, nextSendAt: new Date(KST('09:00:00', '2026-12-08')).toISOString(), status: 'active' });
    expect(await logRows(b.database, byDefault.id)).toMatchObject([{ status: 'failed' }]);
    expect(await b.schedules.get(byDefault.id)).toMatchObject({ sendCount: 0, status: 'completed' });
    expect(await b.schedules.runDue()).toMatchObject({ sent: 0, skipped: 0 });
  });

  it('a phone offline at send time gets the message on reconnect (outbox), and the log says so', async () => {
    const clock = new ManualClock(Date.parse(KST('18:59:00')));
    const b = await start(clock);
    await registerRoom(b.database, 'LOA.i');
    const first = await b.t.client();
    await first.close();
    const s = await b.schedules.create({ title: 'offline', botName: 'LOA.i', roomId: ROOM_ID, type: 'once', date: '2026-12-07', times: ['19:00'], text: '퇴근 시간입니다' });
    clock.set(KST('19:00:03'));
    await expect.poll(() => b.t.bridge.clients().length, { timeout: 10_000 }).toBe(0);
    expect(await b.schedules.runDue()).toMatchObject({ sent: 1 });
    let [log] = await logRows(b.database, s.id);
    expect(log).toMatchObject({ status: 'success' });
    expect(json(log!.api_response)).toMatchObject({ result: 'queued' });
    expect(String(log!.error_message)).toMatch(/queued/);

    const back = await b.t.client();
    const [reply] = await back.waitForReplies(1);
    expect(reply).toMatchObject({ text: '퇴근 시간입니다', room: ROOM_NAME });
    await expect.poll(async () => String((await logRows(b.database, s.id))[0]!.error_message), { timeout: 10_000 }).toMatch(/delivered from the outbox/);
    [log] = await logRows(b.database, s.id);
    expect(await b.schedules.get(s.id)).toMatchObject({ status: 'completed', sendCount: 1 });
  });

  it('v3.3 phones get scheduleMessage, v3.2 phones messageResponse', async () => {
    const clock = new ManualClock(Date.parse(KST('06:59:00')));
    const b = await start(clock);
    await registerRoom(b.database, 'LOA.i');
    await registerRoom(b.database, 'NEW.i');
    const v32 = await b.t.client();
    const v33 = await b.t.client({ botName: 'NEW.i', deviceId: 'cccc000000000003', protocol: '3.3' });
    await b.schedules.create({ title: 'v32', botName: 'LOA.i', roomId: ROOM_ID, type: 'weekly', weekdays: ['monday'], times: ['07:00'], text: '월요일 공지' });
    await b.schedules.create({
      title: 'v33', botName: 'NEW.i', roomId: ROOM_ID, type: 'weekly', weekdays: ['monday', 'friday'], times: ['07:00'], text: '월요일 공지',
      images1: [{ base64: 'iVBORw0KGgo=' }], mediaWaitMs1: 1500,
    });
    clock.set(KST('07:00:00'));
    expect(await b.schedules.runDue()).toMatchObject({ sent: 2 });
    expect(await v32.waitForReplies(1)).toMatchObject([{ text: '월요일 공지' }]);
    expect(await v33.waitForReplies(2)).toMatchObject([{ text: '월요일 공지' }, { text: 'IMAGE_BASE64:iVBORw0KGgo=' }]);
    expect(v32.packets.filter((p) => p.event === 'messageResponse')).toHaveLength(1);
    expect(v32.packets.some((p) => p.event === 'scheduleMessage')).toBe(false);
    expect(v33.packets.filter((p) => p.event === 'scheduleMessage')).toHaveLength(2);
    expect(v33.packets.some((p) => p.event === 'messageResponse')).toBe(false);
    const weekly = (await b.schedules.list({ botName: 'NEW.i' }))[0]!;
    expect(weekly.nextSendAt).toBe(new Date(KST('07:00:00', '2026-12-11')).toISOString());
  });

  it('a scheduled message queued for an offline v3.3 phone survives a restart and still arrives as scheduleMessage', async () => {
    const clock = new ManualClock(Date.parse(KST('21:59:00')));
    let b = await start(clock);
    await registerRoom(b.database, 'NEW.i');
    const device = { botName: 'NEW.i', deviceId: 'dddd000000000004', protocol: '3.3' as const };
    await (await b.t.client(device)).close();
    await expect.poll(() => b.t.bridge.clients().length, { timeout: 10_000 }).toBe(0);
    await b.schedules.create({ title: 'night', botName: 'NEW.i', roomId: ROOM_ID, type: 'daily', times: ['22:00'], text: '잘 자요' });
    clock.set(KST('22:00:01'));
    expect(await b.schedules.runDue()).toMatchObject({ sent: 1 });
    await stop(b);
    b = await start(clock);
    const phone = await b.t.client(device);
    expect(await phone.waitForReplies(1)).toMatchObject([{ text: '잘 자요' }]);
    expect(phone.packets.filter((p) => p.event === 'scheduleMessage')).toHaveLength(1);
    // The restarted process found the log row again and amended it on delivery.
    const [night] = (await b.schedules.list({ botName: 'NEW.i' }));
    await expect.poll(async () => String((await logRows(b.database, night!.id))[0]!.error_message), { timeout: 10_000 }).toMatch(/^queued, then delivered from the outbox/);
  });

  it('a row written by SQL with next_send_at before its valid_from waits for its window; inactive rows are not sent', async () => {
    const clock = new ManualClock(Date.parse(KST('09:30:00')));
    const b = await start(clock);
    await registerRoom(b.database, 'LOA.i');
    const s = await b.schedules.create({ title: 'later', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['10:00'], text: '아직', validFrom: KST('00:00:00', '2026-12-09') });
    expect(s.nextSendAt).toBe(new Date(KST('10:00:00', '2026-12-09')).toISOString());
    const paused = await b.schedules.create({ title: 'paused', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['10:00'], text: '멈춤' });
    await b.schedules.pause(paused.id);
    // As a PHP page might: next_send_at today, before the window opens.
    await b.database.db.updateTable('kb_schedule').set({ next_send_at: b.database.toDb(new Date(KST('10:00:00'))).slice(0, 19) }).execute();
    clock.set(KST('10:00:01'));
    expect(await b.schedules.runDue()).toMatchObject({ sent: 0, skipped: 0 });
    expect(await b.schedules.get(s.id)).toMatchObject({ nextSendAt: new Date(KST('10:00:00', '2026-12-09')).toISOString(), sendCount: 0 });
    expect(await b.schedules.get(paused.id)).toMatchObject({ status: 'inactive', sendCount: 0 });
    expect(await logRows(b.database, s.id)).toHaveLength(0);
  });

  it('target_device_id picks the phone among the bot\'s connected ones', async () => {
    const clock = new ManualClock(Date.parse(KST('12:59:00')));
    const b = await start(clock);
    await registerRoom(b.database, 'LOA.i');
    const first = await b.t.client({ deviceId: 'eeee000000000005' });
    const second = await b.t.client({ deviceId: 'ffff000000000006' });
    const s = await b.schedules.create({ title: 'device', botName: 'LOA.i', roomId: ROOM_ID, deviceId: 'ffff000000000006', type: 'daily', times: ['13:00'], text: '두 번째 폰으로' });
    expect(s.deviceId).toBe('ffff000000000006');
    clock.set(KST('13:00:00'));
    expect(await b.schedules.runDue()).toMatchObject({ sent: 1 });
    expect(await second.waitForReplies(1)).toMatchObject([{ text: '두 번째 폰으로' }]);
    expect(first.replies).toHaveLength(0);
    expect(json((await logRows(b.database, s.id))[0]!.api_response)).toMatchObject({ parts: [{ status: 'written', deviceId: 'ffff000000000006' }] });
  });

  it('after a long downtime only the latest due occurrence inside the window is sent; earlier ones are logged as skipped', async () => {
    const clock = new ManualClock(Date.parse(KST('08:00:00')));
    let b = await start(clock);
    await registerRoom(b.database, 'LOA.i');
    const twice = await b.schedules.create({ title: 'twice', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['09:00', '09:30'], text: '하루 두 번', catchUpSeconds: 600 });
    const days = await b.schedules.create({ title: 'days', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['07:00'], text: '사흘 창', catchUpSeconds: 3 * 86_400 });
    await (await b.t.client()).close();
    await stop(b);

    // Down until 09:35 two days later: 'twice' missed 6 times, 'days' twice (both inside its window).
    clock.set(KST('09:35:00', '2026-12-09'));
    b = await start(clock);
    const phone = await b.t.client();
    for (let i = 0; i < 6; i += 1) await b.schedules.runDue();
    expect((await phone.waitForReplies(2)).map((r) => r.text).sort()).toEqual(['사흘 창', '하루 두 번']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(phone.replies).toHaveLength(2);

    const twiceLogs = await logRows(b.database, twice.id);
    expect(twiceLogs.map((l) => l.status)).toEqual(['failed', 'success']);
    expect(String(twiceLogs[0]!.error_message)).toMatch(/beyond its catch-up window of 600 s/);
    expect(await b.schedules.get(twice.id)).toMatchObject({ sendCount: 1, nextSendAt: new Date(KST('09:00:00', '2026-12-10')).toISOString() });
    const dayLogs = await logRows(b.database, days.id);
    expect(dayLogs.map((l) => l.status)).toEqual(['failed', 'success']);
    expect(String(dayLogs[0]!.error_message)).toMatch(/superseded by the occurrence at/);
    expect(await b.schedules.get(days.id)).toMatchObject({ sendCount: 1, nextSendAt: new Date(KST('07:00:00', '2026-12-10')).toISOString() });
  });

  it('a row the old server claimed (last_sent_at at or after next_send_at) is left alone until resumed', async () => {
    const clock = new ManualClock(Date.parse(KST('14:59:00')));
    const b = await start(clock);
    await registerRoom(b.database, 'LOA.i');
    const phone = await b.t.client();
    const s = await b.schedules.create({ title: 'old claim', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['15:00'], text: '옛 서버가 보냄' });
    // The Python server's claim: SET last_sent_at = NOW() WHERE last_sent_at IS NULL OR last_sent_at < next_send_at.
    await b.database.db.updateTable('kb_schedule').set({ last_sent_at: b.database.toDb(new Date(KST('15:00:01'))).slice(0, 19) }).where('id', '=', s.id).execute();
    clock.set(KST('15:00:02'));
    expect(await b.schedules.runDue()).toMatchObject({ sent: 0, skipped: 0 });
    expect(await logRows(b.database, s.id)).toHaveLength(0);
    // An operator frees a row such a server left claimed: next_send_at from now, sent tomorrow.
    expect(await b.schedules.resume(s.id)).toMatchObject({ nextSendAt: new Date(KST('15:00:00', '2026-12-08')).toISOString() });
    clock.set(KST('15:00:01', '2026-12-08'));
    expect(await b.schedules.runDue()).toMatchObject({ sent: 1 });
    expect(await phone.waitForReplies(1)).toMatchObject([{ text: '옛 서버가 보냄' }]);
  });
});
