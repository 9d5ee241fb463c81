import { afterEach, beforeEach, expect, it } from 'vitest';
import { createAdminServer, type AdminServer } from '@botbridge/core/http';
import { createTestBridge } from '@botbridge/testing';
import { main } from '../../../core/src/cli/main.js';
import { ManualClock, ROOM_ID, logRows, registerRoom, sharedStore, startBridge, type SchedBridge } from './harness.js';

const TOKEN = 'scheduler-test-token-0123456789abcdef';
const BEARER = { authorization: `Bearer ${TOKEN}` };

let store: { url: string; drop(): Promise<void> };
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  store = await sharedStore();
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  await store.drop();
});

async function withAdmin(): Promise<{ b: SchedBridge; admin: AdminServer; url: string; clock: ManualClock }> {
  const clock = new ManualClock(Date.parse('2026-12-07T08:00:00+09:00'));
  const b = await startBridge(store.url, clock);
  cleanups.push(() => b.t.close());
  const admin = await createAdminServer({ bridge: b.t.bridge, http: { adminToken: TOKEN, port: 0 } });
  cleanups.push(() => admin.close());
  const { url } = await admin.listen();
  return { b, admin, url, clock };
}

async function cli(url: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'botbridge', ...args, '--url', url, '--token', TOKEN], { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

it('/api/schedules: create, validate, list, pause, resume, logs, delete; 401 without the token', async () => {
  const { b, admin, clock } = await withAdmin();
  await registerRoom(b.database, 'LOA.i');
  const body = { title: '점심', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['12:00'], text: '점심 시간' };
  expect((await admin.app.inject({ method: 'POST', url: '/api/schedules', payload: body })).statusCode).toBe(401);
  const created = await admin.app.inject({ method: 'POST', url: '/api/schedules', payload: body, headers: BEARER });
  expect(created.statusCode).toBe(201);
  const s = created.json() as { id: number; nextSendAt: string };
  expect(s.nextSendAt).toBe('2026-12-07T03:00:00.000Z');

  const invalid = await admin.app.inject({ method: 'POST', url: '/api/schedules', payload: { ...body, type: 'weekly', times: ['25:00'] }, headers: BEARER });
  expect(invalid.statusCode).toBe(400);
  expect(invalid.json().message).toMatch(/times\.0: expected HH:MM.*weekdays: a weekly schedule needs weekdays/);

  expect((await admin.app.inject({ url: '/api/schedules?bot=LOA.i', headers: BEARER })).json()).toHaveLength(1);
  expect((await admin.app.inject({ method: 'POST', url: `/api/schedules/${s.id}/pause`, headers: BEARER })).json()).toMatchObject({ status: 'inactive' });
  clock.set('2026-12-07T12:00:05+09:00');
  expect((await admin.app.inject({ method: 'POST', url: '/api/schedules/run', headers: BEARER })).json()).toMatchObject({ sent: 0 });
  // Resumed after its time: the next one is tomorrow's.
  expect((await admin.app.inject({ method: 'POST', url: `/api/schedules/${s.id}/resume`, headers: BEARER })).json())
    .toMatchObject({ status: 'active', nextSendAt: '2026-12-08T03:00:00.000Z' });
  const patched = await admin.app.inject({ method: 'PATCH', url: `/api/schedules/${s.id}`, payload: { times: ['12:30'] }, headers: BEARER });
  expect(patched.json()).toMatchObject({ times: ['12:30:00'], nextSendAt: '2026-12-07T03:30:00.000Z' });
  clock.set('2026-12-07T12:30:01+09:00');
  expect((await admin.app.inject({ method: 'POST', url: '/api/schedules/run', headers: BEARER })).json()).toMatchObject({ sent: 1 });
  expect((await admin.app.inject({ url: `/api/schedules/${s.id}/logs`, headers: BEARER })).json()).toMatchObject([{ status: 'failed', error_message: expect.stringMatching(/no_client/) }]);
  expect((await admin.app.inject({ method: 'DELETE', url: `/api/schedules/${s.id}`, headers: BEARER })).statusCode).toBe(204);
  expect((await admin.app.inject({ url: `/api/schedules/${s.id}`, headers: BEARER })).statusCode).toBe(404);
  expect(await logRows(b.database, s.id)).toHaveLength(0);
});

it('/api/schedules answers 404 when the scheduler plugin is not enabled', async () => {
  const t = await createTestBridge({});
  cleanups.push(() => t.close());
  const admin = await createAdminServer({ bridge: t.bridge, http: { adminToken: TOKEN, port: 0 } });
  cleanups.push(() => admin.close());
  const res = await admin.app.inject({ url: '/api/schedules', headers: BEARER });
  expect(res.statusCode).toBe(404);
  expect(res.json().message).toMatch(/scheduler plugin/);
});

it('botbridge schedules add|list|pause|resume|delete through the running server', async () => {
  const { b, url } = await withAdmin();
  await registerRoom(b.database, 'LOA.i');
  const added = await cli(url, 'schedules', 'add', '--bot', 'LOA.i', '--room', ROOM_ID, '--type', 'weekly', '--weekdays', 'mon,fri', '--time', '09:00', '--text', '주간 회의');
  expect(added).toMatchObject({ code: 0 });
  expect(added.out).toMatch(/^added schedule (\d+); next send /);
  const id = /schedule (\d+)/.exec(added.out)![1]!;
  const listed = await cli(url, 'schedules', 'list');
  expect(listed.out).toMatch(new RegExp(`^${id}\\s+LOA\\.i\\s+${ROOM_ID}\\s+weekly\\s+mon,fri 09:00:00\\s+active`, 'm'));
  expect((await cli(url, 'schedules', 'pause', id)).out).toMatch(/inactive/);
  expect((await cli(url, 'schedules', 'resume', id)).out).toMatch(/active/);
  expect((await cli(url, 'schedules', 'delete', id)).out).toBe(`deleted schedule ${id}\n`);
  const gone = await cli(url, 'schedules', 'delete', id);
  expect(gone.code).not.toBe(0);
  expect(gone.err).toMatch(/404/);
  expect((await cli(url, 'schedules', 'add', '--bot', 'LOA.i', '--room', ROOM_ID, '--type', 'weekly', '--time', '09:00', '--text', 'x')).err).toMatch(/400.*weekdays/);
});
