import { mkdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { usePlugin } from '@botbridge/sdk';
import { createTestBridge, FakeBridgeClient, type TestBridge } from '@botbridge/testing';
import { commands } from '@botbridge/plugin-commands';
import { createAdminServer, type AdminServer } from '@botbridge/core/http';
import { launchChromium } from './launch.js';

/**
 * The dashboard in a real browser (Debian's chromium through playwright-core, headless): sign
 * in with the token URL, watch a fake bridge script connect, approve its device and room from
 * the page, send `# echo` from the sandbox and see the reply in the live event tail.
 */

const TOKEN = 'browser-test-token-0123456789abcdef';
const BOT = 'LOA.i';
const DEVICE = 'a1b2c3d4e5f60718';
const CHANNEL = '18445682959392711';
const SCREENSHOT = new URL('../artifacts/dashboard.png', import.meta.url).pathname;

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

describe('dashboard in a browser', () => {
  it('approves a pending device and room from the page and shows the sandbox reply in the event tail', async () => {
    const t: TestBridge = await createTestBridge({ plugins: [usePlugin(commands, { admins: {} })], autoApprove: false });
    cleanups.push(() => t.close());
    const admin: AdminServer = await createAdminServer({ bridge: t.bridge, http: { port: 0, adminToken: TOKEN, statsIntervalMs: 500 } });
    cleanups.push(() => admin.close());
    const { url } = await admin.listen();

    const browser: Browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, locale: 'ko-KR' });
    // Generous: the full suite runs beside this test on two cores.
    page.setDefaultTimeout(20_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });

    // The logged URL form: the token rides in the fragment, the login page signs in with it.
    await page.goto(`${url}/#token=${TOKEN}`);
    await page.locator('#live.pill-on').waitFor();
    expect(new URL(page.url()).hash).toBe('');
    // Issue 15: the login page is a 200 document, so signing in leaves the console clean.
    expect(pageErrors).toEqual([]);

    // A phone connects (pending) and writes a line: its device and room show up as pending.
    const phone = await FakeBridgeClient.connect({ port: t.port });
    cleanups.push(() => phone.close());
    await phone.handshake;
    phone.analyze({ text: '처음 보내는 말', channelId: CHANNEL });
    await page.locator('#tail td', { hasText: '처음 보내는 말' }).first().waitFor();
    await page.locator(`#clients tr[data-device="${DEVICE}"]`).waitFor();

    await page.locator(`#devices tr[data-device="${DEVICE}"] button`, { hasText: 'Approve' }).click();
    await page.locator(`#rooms tr[data-room="${CHANNEL}"] button`, { hasText: 'Approve' }).click();
    await page.locator(`#devices tr[data-device="${DEVICE}"]`).waitFor({ state: 'detached' });
    await page.locator(`#rooms tr[data-room="${CHANNEL}"]`).waitFor({ state: 'detached' });
    expect((await t.bridge.admin.device(BOT, DEVICE))?.status).toBe('approved');
    expect((await t.bridge.admin.room(BOT, CHANNEL))?.status).toBe('approved');

    // The sandbox speaks for the phone; the reply is really sent to it and shows in the tail.
    await page.locator(`#sandbox-room option[value="${CHANNEL}"]`).waitFor({ state: 'attached' });
    await page.fill('#sandbox input[name="botName"]', BOT);
    await page.fill('#sandbox input[name="deviceId"]', DEVICE);
    await page.selectOption('#sandbox-room', CHANNEL);
    await page.fill('#sandbox textarea[name="text"]', '# echo 안녕하세요');
    await page.click('#sandbox-send');
    const tailReply = page.locator('#tail tr[data-event="reply:sent"] td.detail', { hasText: '에코: 안녕하세요' });
    await tailReply.waitFor();
    await page.locator('#sandbox-result .reply', { hasText: '에코: 안녕하세요' }).waitFor();
    expect(await page.locator('#tail tr.hl').count()).toBeGreaterThanOrEqual(2);
    expect((await phone.nextReply()).text).toBe('에코: 안녕하세요');

    // A little traffic for the charts before the picture (stats tick every 500 ms).
    for (let i = 1; i <= 8; i += 1) {
      phone.analyze({ text: `# echo ${i}`, channelId: CHANNEL });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await phone.waitForReplies(8);
    // A string: it runs in the page, and this project's TypeScript has no DOM types.
    await page.waitForFunction("document.getElementById('kpi-latency')?.textContent !== '–'");
    // Nothing was dropped on the way to the store: the tile says so, not in red.
    await page.waitForFunction("document.getElementById('kpi-writes-dropped')?.textContent === '0'");
    expect(await page.locator('#kpi-writes-card.alert').count()).toBe(0);
    await page.waitForFunction("document.getElementById('kpi-outbox')?.textContent === '0'");
    await page.waitForTimeout(1_000);
    await mkdir(new URL('../artifacts/', import.meta.url), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
