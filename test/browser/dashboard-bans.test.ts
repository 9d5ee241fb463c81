import { afterEach, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createTestBridge, FakeBridgeClient, type TestBridge } from '@botbridge/testing';
import { createAdminServer, type AdminServer } from '@botbridge/core/http';
import { launchChromium } from './launch.js';

/** Issue 13: the dashboard lists the bot port's temporary bans and lifts one (headless chromium). */

const TOKEN = 'browser-test-token-0123456789abcdef';
const SUBJECT = 'LOA.i/flapping00000001';

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

describe('dashboard bans card', () => {
  it('shows a ban and lifts it', async () => {
    const t: TestBridge = await createTestBridge({ config: { bans: { deviceThreshold: 1 } } });
    cleanups.push(() => t.close());
    const admin: AdminServer = await createAdminServer({ bridge: t.bridge, http: { port: 0, adminToken: TOKEN } });
    cleanups.push(() => admin.close());
    const { url } = await admin.listen();
    const phone = await FakeBridgeClient.connect({ port: t.port, deviceId: 'flapping00000001' });
    cleanups.push(() => phone.close());
    expect((await phone.handshake).success).toBe(false);

    const browser: Browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${url}/#token=${TOKEN}`);
    const row = page.locator(`#bans tr[data-subject="${SUBJECT}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('connect');
    await row.locator('button', { hasText: 'Lift' }).click();
    await row.waitFor({ state: 'detached' });
    expect(t.bridge.admin.bans()).toEqual([]);
  });
});
