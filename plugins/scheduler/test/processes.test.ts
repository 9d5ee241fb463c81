import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openStore, type Store } from '@botbridge/core';
import { FakeBridgeClient } from '@botbridge/testing';
import { followServer, type RunningServer } from '../../../test/process/example-process.js';
import { SCHEDULER_MIGRATIONS } from '../src/migrations.js';
import { ROOM_ID, ROOM_NAME, logRows, sharedStore } from './harness.js';

/**
 * Real `botbridge start` processes on one database (SQLite file, or MariaDB with
 * BOTBRIDGE_TEST_STORE): two of them poll the same due daily schedule every 200 ms, then each is
 * restarted within the schedule's minute. The message goes out once, with one log row.
 */

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'core/bin/botbridge.js');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

async function startProcess(storeUrl: string): Promise<RunningServer> {
  const child = spawn(process.execPath, [bin, 'start', '--config', 'plugins/scheduler/test/fixtures/scheduler.config.ts', '--port', '0', '--store', storeUrl, '--auto-approve'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return followServer(child);
}

async function stopProcess(server: RunningServer): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exit).toBe(0);
}

async function phoneOf(server: RunningServer, deviceId: string): Promise<FakeBridgeClient> {
  const phone = await FakeBridgeClient.connect({ port: server.port, deviceId });
  cleanups.push(() => phone.close());
  expect(await phone.handshake).toMatchObject({ approved: true });
  return phone;
}

it('two processes and two restarts within the minute: one send, one log row', { timeout: 60_000 }, async () => {
  const shared = await sharedStore();
  cleanups.push(() => shared.drop());
  const store: Store = await openStore(shared.url);
  cleanups.push(() => store.close());
  const database = store.pluginDatabase();
  await database.migrate('scheduler', SCHEDULER_MIGRATIONS);
  const now = database.toDb(new Date());
  await database.db.insertInto('kb_rooms').values({ room_id: ROOM_ID, bot_name: 'LOA.i', room_name: ROOM_NAME, status: 'approved', created_at: now, updated_at: now }).execute();

  let [a, b] = await Promise.all([startProcess(shared.url), startProcess(shared.url)]);
  const phones = await Promise.all([phoneOf(a!, 'aaaa000000000001'), phoneOf(b!, 'bbbb000000000002')]);

  // Due in a second, at a whole second (a DATETIME holds no fraction), as a daily schedule in UTC.
  const due = new Date(Math.ceil((Date.now() + 1_000) / 1_000) * 1_000);
  const at = due.toISOString();
  const inserted = await database.db.insertInto('kb_schedule').values({
    title: 'two processes', created_by_type: 'branch', created_by_id: 'b1', created_by_mb_id: 'admin',
    target_bot_name: 'LOA.i', target_room_id: ROOM_ID, message_text: '한 번만 보냅니다',
    schedule_type: 'daily', schedule_time: at.slice(11, 19),
    valid_from: database.toDb(new Date(Date.now() - 86_400_000)).slice(0, 19), valid_until: database.toDb(new Date(Date.now() + 86_400_000 * 30)).slice(0, 19),
    status: 'active', next_send_at: database.toDb(due).slice(0, 19), send_count: 0, created_at: now.slice(0, 19), updated_at: now.slice(0, 19),
  }).executeTakeFirst();
  const id = Number(inserted.insertId);

  const received = () => phones.reduce((n, p) => n + p.replies.length, 0);
  await expect.poll(received, { timeout: 10_000 }).toBe(1);
  expect(phones.flatMap((p) => p.replies).map((r) => r.text)).toEqual(['한 번만 보냅니다']);

  // Restart each process in turn while the minute lasts; each polls again at start and every 200 ms.
  for (const which of ['a', 'b'] as const) {
    await stopProcess(which === 'a' ? a! : b!);
    const again = await startProcess(shared.url);
    if (which === 'a') a = again;
    else b = again;
    phones.push(await phoneOf(again, `${which}${which}${which}${which}000000000009`));
    await again.waitForLog((entry) => entry.msg === 'botbridge listening');
    await new Promise((resolve) => setTimeout(resolve, 800));
  }
  expect(Date.now() - due.getTime()).toBeLessThan(60_000);
  expect(received()).toBe(1);
  const logs = await logRows(database, id);
  expect(logs).toHaveLength(1);
  expect(logs[0]).toMatchObject({ status: 'success' });
  const row = await database.db.selectFrom('kb_schedule').select(['send_count', 'next_send_at', 'last_sent_at']).where('id', '=', id).executeTakeFirstOrThrow();
  expect(Number(row.send_count)).toBe(1);
  expect(database.fromDb(row.next_send_at)?.toISOString()).toBe(new Date(due.getTime() + 86_400_000).toISOString());
  await Promise.all([stopProcess(a!), stopProcess(b!)]);
});
