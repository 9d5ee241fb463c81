import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { imagesSummary, partsOf } from '../src/parts.js';
import type { ScheduleRow } from '../src/schedule-row.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bb-sched-img-'));
  await mkdir(join(root, 'schedule/2026/12'), { recursive: true });
  await writeFile(join(root, 'schedule/2026/12/a.png'), Buffer.from([1, 2, 3]));
  await symlink('/etc/hostname', join(root, 'schedule/link.png'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const row = (over: Partial<ScheduleRow>): ScheduleRow => ({
  id: 1, title: 't', description: null, created_by_type: 'branch', created_by_id: 'b', created_by_mb_id: 'm', target_bot_name: 'LOA.i',
  target_room_id: '1', message_text: null, message_images_1: null, message_images_2: null, send_interval_seconds: 1, media_wait_time_1: 0,
  media_wait_time_2: 0, schedule_type: 'daily', schedule_date: null, schedule_time: '09:00:00', schedule_times: null, schedule_weekdays: null,
  valid_from: '2026-01-01 00:00:00', valid_until: '2099-01-01 00:00:00', status: 'active', last_sent_at: null, next_send_at: null,
  send_count: 0, catch_up_seconds: null, ...over,
});

it('text first, then each image group as one share (files read as base64 like the old server, base64 and URLs as they are)', async () => {
  const parts = await partsOf(row({
    message_text: '공지',
    message_images_1: JSON.stringify([{ path: 'schedule/2026/12/a.png', name: 'a.png' }, { base64: 'QUJD' }]),
    media_wait_time_1: 2000,
    message_images_2: [{ url: 'https://example.com/b.png' }],
  }), root);
  expect(parts).toEqual([
    { component: 'text', reply: { kind: 'text', text: '공지' }, error: null },
    { component: 'images_1', reply: { kind: 'media', form: 'base64', items: ['AQID', 'QUJD'], waitMs: 2000 }, error: null },
    { component: 'images_2', reply: { kind: 'media', form: 'url', items: ['https://example.com/b.png'] }, error: null },
  ]);
});

it('refuses paths outside imageRoot, missing files, and files without an imageRoot', async () => {
  const [outside] = await partsOf(row({ message_images_1: JSON.stringify([{ path: '../../etc/passwd' }]) }), root);
  expect(outside).toMatchObject({ reply: null, error: 'images_1: ../../etc/passwd is outside imageRoot' });
  const [linked] = await partsOf(row({ message_images_1: JSON.stringify([{ path: 'schedule/link.png' }]) }), root);
  expect(linked).toMatchObject({ reply: null, error: 'images_1: schedule/link.png is outside imageRoot' });
  const [missing] = await partsOf(row({ message_images_1: JSON.stringify([{ path: 'schedule/none.png' }]) }), root);
  expect(missing).toMatchObject({ reply: null, error: 'images_1: cannot read schedule/none.png (ENOENT)' });
  const [noRoot] = await partsOf(row({ message_images_1: JSON.stringify([{ path: 'schedule/2026/12/a.png' }]) }), null);
  expect(noRoot?.error).toMatch(/imageRoot/);
  expect(await partsOf(row({ message_images_1: 'not json', message_text: '' }), root)).toEqual([]);
});

it('a log row records image names and sizes, never the data', () => {
  expect(imagesSummary(JSON.stringify([{ path: 'a.png', name: 'a.png' }, { base64: 'QUJD' }]))).toBe('[{"path":"a.png","name":"a.png"},{"base64Chars":4}]');
  expect(imagesSummary('[]')).toBeNull();
});
