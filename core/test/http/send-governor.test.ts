import { describe, expect, it } from 'vitest';
import { definePlugin, type SendResult } from '@botbridge/sdk';
import type { FakeBridgeClient } from '@botbridge/testing';
import { BEARER, TOKEN, useAdmin, type AdminFixture } from './admin-harness.js';

/**
 * The send governor through real parts: pushes over the real admin HTTP server, a fake bridge
 * script on real TCP, spacing measured from the phone's receive times (generous bounds: this
 * machine may be loaded; the governor's own delays are exact, what the phone sees is not).
 */

const { start } = useAdmin();

const BOT = 'LOA.i';
const CHANNEL = '18445682959392711';
const ROOM = '주문방';

const echo = definePlugin({
  name: 'echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => `에코: ${message.text}`);
  },
});

async function push(fixture: AdminFixture, text: string): Promise<SendResult> {
  const res = await fetch(`${fixture.address!.url}/api/bots/${encodeURIComponent(BOT)}/rooms/${CHANNEL}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ room: ROOM, text }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as SendResult;
}

/** Takes `count` replies, stamping each with the time the phone got it. */
async function receive(phone: FakeBridgeClient, count: number, timeoutMs = 20_000): Promise<{ text: string; at: number }[]> {
  const got: { text: string; at: number }[] = [];
  while (got.length < count) got.push({ text: (await phone.nextReply(timeoutMs)).text, at: performance.now() });
  return got;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

describe('send governor', () => {
  it('spaces 200 pushes to one room by at least the gap, with jitter, and loses none', async () => {
    const gapMs = 15;
    const jitterMs = 10;
    const fixture = await start({
      listen: true,
      config: { replies: { governor: { roomGapMs: gapMs, jitterMs, ratePerSecond: 1_000, burst: 1_000 } } },
    });
    const phone = await fixture.client();
    const texts = Array.from({ length: 200 }, (_, i) => `공지 ${i}`);
    const answers = Promise.all(texts.map((text) => push(fixture, text)));
    const got = await receive(phone, 20);
    const stats = (await fixture.admin.app.inject({ url: '/api/stats', headers: BEARER })).json();
    expect(stats.governor.queued).toBeGreaterThan(0);
    expect(stats.governor.rooms).toBe(1);
    got.push(...(await receive(phone, 180)));
    const results = await answers;

    expect(results.every((r) => r.status === 'written')).toBe(true);
    expect(new Set(results.map((r) => r.traceId)).size).toBe(200);
    expect(got.map((g) => g.text).sort()).toEqual([...texts].sort());
    await expect(phone.nextReply(200)).rejects.toThrow();

    const intervals = got.slice(1).map((g, i) => g.at - got[i]!.at);
    const sorted = [...intervals].sort((a, b) => a - b);
    // The server spaces every send by gap + jitter; two can reach the phone in one read after a stall.
    expect(got.at(-1)!.at - got[0]!.at).toBeGreaterThanOrEqual(199 * gapMs);
    expect(intervals.filter((ms) => ms >= gapMs * 0.75).length).toBeGreaterThanOrEqual(190);
    // Jitter: intervals spread over [gap, gap + jitter], not all at the gap.
    expect(quantile(sorted, 0.9) - quantile(sorted, 0.1)).toBeGreaterThanOrEqual(jitterMs * 0.4);
    expect(intervals.reduce((a, b) => a + b, 0) / intervals.length).toBeGreaterThanOrEqual(gapMs + jitterMs * 0.3);

    const metrics = (await fixture.admin.app.inject({ url: '/metrics', headers: BEARER })).body;
    expect(metrics).toMatch(/botbridge_governor_delay_seconds_count\{bot="LOA\.i"\} 200/);
    expect(metrics).toMatch(/botbridge_governor_sends_total\{result="sent"\} 200/);
  });

  it('answers a message during a push backlog before the backlog ends', async () => {
    const fixture = await start({
      listen: true,
      plugins: [echo],
      config: { replies: { governor: { roomGapMs: 20, jitterMs: 10, ratePerSecond: 1_000, burst: 1_000 } } },
    });
    const phone = await fixture.client();
    const texts = Array.from({ length: 100 }, (_, i) => `공지 ${i}`);
    const answers = Promise.all(texts.map((text) => push(fixture, text)));
    const before = await receive(phone, 30);
    // A message of the same room while ~70 pushes still wait.
    phone.analyze({ text: '안녕', room: ROOM, channelId: CHANNEL });
    const rest = await receive(phone, 71);
    const got = [...before, ...rest];
    const replyAt = got.findIndex((g) => g.text === '에코: 안녕');
    expect(replyAt).toBeGreaterThanOrEqual(30);
    // Replies first: it went out within a few sends (generously: a loaded machine), not behind the ~70 pushes still waiting.
    expect(replyAt).toBeLessThan(80);
    expect((await answers).every((r) => r.status === 'written')).toBe(true);
    expect(got.filter((g) => g.text.startsWith('공지')).map((g) => g.text).sort()).toEqual([...texts].sort());
  });

  it('rejects with queue_full beyond the room bound and with daily_cap past the cap; never drops silently', async () => {
    const fixture = await start({
      listen: true,
      // A long gap, so the concurrent pushes find the 2 waiting places taken even on a loaded machine.
      config: { replies: { governor: { roomGapMs: 300, jitterMs: 0, maxQueuedPerRoom: 2, dailyCap: 8 } } },
    });
    const phone = await fixture.client();
    const first = await Promise.all(Array.from({ length: 12 }, (_, i) => push(fixture, `첫 묶음 ${i}`)));
    const written = first.filter((r) => r.status === 'written');
    const rejected = first.filter((r) => r.status === 'rejected');
    expect(written.length + rejected.length).toBe(12);
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect(rejected.every((r) => r.status === 'rejected' && r.reason === 'queue_full')).toBe(true);
    expect(written.length).toBeLessThanOrEqual(8);
    const got = await receive(phone, written.length);
    expect(got).toHaveLength(written.length);

    // Up to the daily cap of 8 sends of this device, then daily_cap.
    const more: SendResult[] = [];
    for (let i = 0; i < 10 - written.length; i += 1) more.push(await push(fixture, `둘째 묶음 ${i}`));
    const sentToday = written.length + more.filter((r) => r.status === 'written').length;
    expect(sentToday).toBe(8);
    expect(more.filter((r) => r.status === 'rejected').every((r) => r.status === 'rejected' && r.reason === 'daily_cap')).toBe(true);
    expect(more.some((r) => r.status === 'rejected')).toBe(true);
    await receive(phone, 8 - written.length);
    await expect(phone.nextReply(300)).rejects.toThrow();

    const metrics = (await fixture.admin.app.inject({ url: '/metrics', headers: BEARER })).body;
    expect(metrics).toMatch(/botbridge_governor_sends_total\{result="queue_full"\} [1-9]/);
    expect(metrics).toMatch(/botbridge_governor_sends_total\{result="daily_cap"\} [1-9]/);
    expect(metrics).toMatch(/botbridge_replies_rejected_total\{reason="queue_full"\} [1-9]/);
  });

  it('does not slow replies: a burst of replies goes out at the sequencer\'s pace while the device\'s bucket is empty', async () => {
    const fixture = await start({
      listen: true,
      plugins: [echo],
      config: { replies: { governor: { ratePerSecond: 2, burst: 1 } } },
    });
    const phone = await fixture.client();
    const began = performance.now();
    for (let i = 0; i < 20; i += 1) phone.analyze({ text: `질문 ${i}`, channelId: String(1000 + i) });
    const got = await receive(phone, 20);
    // 20 replies with a budget of 2 per second: not paced (they would take 9.5 s).
    expect(got.at(-1)!.at - began).toBeLessThan(5_000);
    // A push now waits for the bucket the replies spent: it is paced, not refused.
    const pushed = push(fixture, '나중에');
    const [late] = await receive(phone, 1);
    expect(late!.text).toBe('나중에');
    expect(await pushed).toMatchObject({ status: 'written' });
  });
});
