import { afterEach, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createAdminServer } from '@botbridge/core/http';
import { ManualClock, ROOM_ID, sharedStore, startBridge } from './harness.js';
import { launchChromium } from '../../../test/browser/launch.js';

/** The dashboard's schedules panel (core/src/http/dashboard/schedules.js) in headless chromium. */

const TOKEN = 'browser-test-token-0123456789abcdef';

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

it('lists schedules, adds one from the form, pauses and deletes it', { timeout: 30_000 }, async () => {
  const store = await sharedStore();
  cleanups.push(() => store.drop());
  const b = await startBridge(store.url, new ManualClock(Date.parse('2026-12-07T08:00:00+09:00')));
  cleanups.push(() => b.t.close());
  await b.schedules.create({ title: '기존 예약', botName: 'LOA.i', roomId: ROOM_ID, type: 'daily', times: ['09:00'], text: '안녕' });
  const admin = await createAdminServer({ bridge: b.t.bridge, http: { port: 0, adminToken: TOKEN } });
  cleanups.push(() => admin.close());
  const { url } = await admin.listen();

  const browser: Browser = await launchChromium();
  cleanups.push(() => browser.close());
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${url}/#token=${TOKEN}`);
  const first = page.locator('#schedules tr[data-id="1"]');
  await first.waitFor();
  expect(await first.textContent()).toContain('기존 예약');

  const form = page.locator('#schedule-add');
  await form.locator('input[name=botName]').fill('LOA.i');
  await form.locator('input[name=roomId]').fill(ROOM_ID);
  await form.locator('select[name=type]').selectOption('weekly');
  await form.locator('input[name=time]').fill('18:30');
  await form.locator('input[name=weekdays]').fill('friday');
  await form.locator('textarea[name=text]').fill('주말 잘 보내세요');
  await form.locator('button[type=submit]').click();
  const added = page.locator('#schedules tr[data-id="2"]');
  await added.waitFor();
  expect(await added.textContent()).toContain('weekly fri 18:30:00');
  expect(await b.schedules.get(2)).toMatchObject({ type: 'weekly', weekdays: ['friday'], text: '주말 잘 보내세요', status: 'active' });

  await added.locator('button', { hasText: 'Pause' }).click();
  await added.locator('button', { hasText: 'Resume' }).waitFor();
  expect(await b.schedules.get(2)).toMatchObject({ status: 'inactive' });
  page.on('dialog', (dialog) => void dialog.accept());
  await added.locator('button', { hasText: 'Delete' }).click();
  await added.waitFor({ state: 'detached' });
  expect(await b.schedules.get(2)).toBeUndefined();
});
