import { mkdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { definePlugin, usePlugin } from '@botbridge/sdk';
import { createTestBridge, FakeBridgeClient, type TestBridge } from '@botbridge/testing';
import { commands } from '@botbridge/plugin-commands';
import { createAdminServer, type AdminServer } from '@botbridge/core/http';
import { launchChromium } from './launch.js';

/**
 * Issue 15, the dashboard in headless chromium: the login page is no error, the charts are
 * uPlot's with whole-number ticks for counted series, the plugins panel lists the configured
 * plugins with their states and counts, the log tail shows a warning logged here (with its
 * secret redacted), and at phone width nothing overflows and no Korean word is broken.
 * Screenshots at desktop and phone widths go to test/artifacts/.
 */

const TOKEN = 'browser-panels-token-0123456789abcdef';
const SECRET = 'sk-live-do-not-show-0123456789';
const ARTIFACTS = new URL('../artifacts/', import.meta.url);

/** Throws on `# boom`: its error shows in the plugins panel. */
const fragile = definePlugin({
  name: 'fragile',
  version: '0.1.0',
  setup(ctx) {
    ctx.onMessage(({ message }) => {
      if (message.text === '# boom') throw new Error('fragile 플러그인이 넘어졌습니다');
      return undefined;
    });
  },
});

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

/** Korean words (runs of Hangul) whose glyphs sit on more than one line. */
const BROKEN_KOREAN_WORDS = `(() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(/[\\uAC00-\\uD7A3]+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
})()`;

/**
 * The document's horizontal overflow, and elements that stick out of the viewport without a
 * scrolling (or clipping) box around them: wide tables scroll inside their card.
 */
const OVERFLOW = `(() => {
  const width = document.documentElement.clientWidth;
  const clipped = (node) => {
    for (let up = node.parentElement; up && up !== document.body; up = up.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll('*')]
    .filter((node) => node.getBoundingClientRect().right > width + 0.5 && !clipped(node))
    .map((node) => node.id || node.className || node.tagName);
  return { document: document.documentElement.scrollWidth - width, wide };
})()`;

async function ticks(page: Page, chart: string, axis: 'yTicks' | 'xTicks'): Promise<string[]> {
  const labels = await page.locator(`#${chart}`).evaluate((node, key) => (node as unknown as { dataset: Record<string, string> }).dataset[key] ?? '', axis);
  return labels.split(' ').filter((label) => label !== '');
}

describe('dashboard panels in a browser', () => {
  it('login without errors, uPlot charts, plugins panel, log tail, phone layout', async () => {
    const t: TestBridge = await createTestBridge({ plugins: [fragile, usePlugin(commands, { admins: {} })], captureLogs: true });
    cleanups.push(() => t.close());
    const admin: AdminServer = await createAdminServer({ bridge: t.bridge, http: { port: 0, adminToken: TOKEN, statsIntervalMs: 250 } });
    cleanups.push(() => admin.close());
    const { url } = await admin.listen();

    const browser: Browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'ko-KR' });
    page.setDefaultTimeout(15_000);
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });

    // A first visit: the login page, answered 200, with nothing on the console.
    const first = await page.goto(`${url}/`);
    expect(first?.status()).toBe(200);
    await page.locator('input[name="token"]').waitFor();
    expect(consoleErrors).toEqual([]);
    // The same page fits a phone.
    const phoneLogin = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'ko-KR' });
    await phoneLogin.goto(`${url}/`);
    expect(await phoneLogin.evaluate(OVERFLOW)).toEqual({ document: 0, wide: [] });
    expect(await phoneLogin.evaluate(BROKEN_KOREAN_WORDS)).toEqual([]);
    await phoneLogin.close();
    await page.fill('input[name="token"]', TOKEN);
    await page.click('button[type="submit"]');
    await page.locator('#live.pill-on').waitFor();

    // Traffic: one phone, replies, one plugin error, and a warning with a secret in it.
    const phone = await FakeBridgeClient.connect({ port: t.port });
    cleanups.push(() => phone.close());
    await phone.handshake;
    for (let i = 1; i <= 4; i += 1) await phone.shouldReply(`# echo ${i}`, `에코: ${i}`);
    phone.analyze({ text: '# boom' });
    t.bridge.log.warn({ token: SECRET, plugin: 'fragile' }, `panel test warning 경고입니다 (bearer ${SECRET})`);

    // Charts: uPlot canvases, whole-number ticks on the counted series, clock labels on time.
    await page.waitForFunction("document.querySelectorAll('.chart[data-chart=uplot] canvas').length === 4");
    await page.waitForFunction("(document.getElementById('chart-clients').dataset.yTicks ?? '').includes('1')");
    for (const chart of ['chart-queue', 'chart-clients']) {
      const labels = await ticks(page, chart, 'yTicks');
      expect(labels.length, `${chart} has y ticks`).toBeGreaterThanOrEqual(2);
      for (const label of labels) expect(label, `${chart} tick`).toMatch(/^\d+k?$/);
    }
    const times = await ticks(page, 'chart-queue', 'xTicks');
    expect(times.length).toBeGreaterThanOrEqual(1);
    for (const label of times) expect(label).toMatch(/^\d\d:\d\d:\d\d$/);

    // Plugins panel: both configured plugins, started, with counts and the last error.
    const fragileRow = page.locator('#plugins tr[data-plugin="fragile"]');
    await page.locator('#plugins tr[data-plugin="fragile"] td.num.err').waitFor();
    expect(await page.locator('#plugins tbody tr').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: Record<string, string> }).dataset.plugin))).toEqual(['fragile', 'commands']);
    expect(await page.locator('#plugins tr[data-state="running"]').count()).toBe(2);
    expect(await fragileRow.textContent()).toContain('fragile 플러그인이 넘어졌습니다');
    // commands saw the four echoes and `# boom` after fragile threw on it (an unknown command: no reply).
    const commandsCounts = async () => (await page.locator('#plugins tr[data-plugin="commands"] td.num').allTextContents()).map(Number);
    await expect.poll(commandsCounts, { timeout: 10_000 }).toEqual([5, 4, 0]);

    // Log tail: the warning is there (warn+ is the default), its secret is not.
    const warnRow = page.locator('#logs tr[data-level="warn"]', { hasText: 'panel test warning' });
    await warnRow.waitFor();
    expect(await warnRow.textContent()).toContain('[redacted]');
    expect(await page.locator('#logs').textContent()).not.toContain(SECRET);
    expect(await page.locator('#logs tr[data-level="info"]').count()).toBe(0);
    await page.selectOption('#log-level', 'info');
    await page.locator('#logs tr[data-level="info"]').first().waitFor();

    await mkdir(ARTIFACTS, { recursive: true });
    await page.waitForTimeout(600);
    await page.screenshot({ path: new URL('dashboard-desktop.png', ARTIFACTS).pathname, fullPage: true });

    // Phone width: charts follow, nothing is wider than the screen, Korean breaks between words.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction("document.querySelector('#chart-queue canvas').getBoundingClientRect().width < 390");
    await page.screenshot({ path: new URL('dashboard-phone.png', ARTIFACTS).pathname, fullPage: true });
    expect(await page.evaluate(OVERFLOW)).toEqual({ document: 0, wide: [] });
    expect(await page.evaluate("getComputedStyle(document.querySelector('.kpi-label')).wordBreak")).toBe('keep-all');
    expect(await page.evaluate(BROKEN_KOREAN_WORDS)).toEqual([]);

    expect(consoleErrors).toEqual([]);
  }, 60_000); // about 10 s alone; generous for a loaded 2-core CI run
});
