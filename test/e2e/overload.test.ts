import { describe, expect, it } from 'vitest';
import type { FakeBridgeClient } from '@botbridge/testing';
import { BOT, counter, handlerPlugin, sleep, useBridges } from './helpers.js';

/**
 * Issue 11 §1: overload is backpressure, not disconnection. Time during which botbridge held
 * reading paused is not the phone's silence; resuming is fair; every admitted message is
 * answered exactly once, late if need be.
 */

const { bridge } = useBridges();

/** Ping every 100 ms, a client silent for 2 intervals (200 ms) is closed. */
const session = { handshakeTimeoutMs: 2_000, pingIntervalMs: 100, pingJitterMs: 0, silentIntervalsBeforeClose: 2 } as const;

const deviceOf = (i: number) => `${i}`.repeat(16);

async function phonesOf(t: { client(o: { deviceId: string }): Promise<FakeBridgeClient> }, count: number): Promise<FakeBridgeClient[]> {
  const phones = [];
  for (let i = 1; i <= count; i++) phones.push(await t.client({ deviceId: deviceOf(i) }));
  return phones;
}

describe('overload', () => {
  it('a full queue holding every socket paused far beyond the silence window closes no one', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated = handlerPlugin('e2e-gated', async ({ message }) => {
      if (message.text === 'block') await gate;
      return `에코: ${message.text}`;
    });
    const t = await bridge({
      plugins: [gated],
      config: { session, pipeline: { queueCapacity: 2, concurrency: { global: 1, perBot: 1, perRoom: 1 }, replyGapMs: 0 } },
    });
    const [a, b] = await phonesOf(t, 2);
    a!.analyze({ room: 'ra', channelId: '1', text: 'block' });
    const deadline = Date.now() + 5_000;
    while (t.bridge.stats().dispatcher.running === 0 && Date.now() < deadline) await sleep(10);
    // Sandbox lines have no connection to hold back, so they can fill the queue: every socket pauses.
    for (let i = 0; i < 2; i++) t.bridge.inject({ botName: BOT, deviceId: deviceOf(2), room: 'rc', channelId: '3', text: `c${i}` });
    expect(t.bridge.stats().saturated).toBe(true);
    // What b sends now stays unread; so do both phones' ping answers.
    for (let i = 0; i < 3; i++) b!.analyze({ room: 'rb', channelId: '2', text: `b${i}` });
    // Five silence windows with reading paused on both sockets.
    await sleep(1_000);
    expect(t.bridge.stats().saturated).toBe(true);
    expect(b!.replies).toEqual([]);
    expect(counter(t, 'pings_skipped', 'reading_paused')).toBeGreaterThan(0);
    release();
    expect((await a!.waitForReplies(1)).map((r) => r.text)).toEqual(['에코: block']);
    // The sandbox lines were b's device's too.
    const bTexts = (await b!.waitForReplies(5)).map((r) => r.text);
    expect(bTexts.filter((x) => x.startsWith('에코: b'))).toEqual(['에코: b0', '에코: b1', '에코: b2']);
    expect(bTexts.filter((x) => x.startsWith('에코: c'))).toEqual(['에코: c0', '에코: c1']);
    // Reading resumed: pings are answered again and nobody was closed.
    const answered = counter(t, 'pings_answered');
    const until = Date.now() + 3_000;
    while (counter(t, 'pings_answered') < answered + 4 && Date.now() < until) await sleep(20);
    expect(counter(t, 'pings_answered')).toBeGreaterThanOrEqual(answered + 4);
    expect(counter(t, 'disconnects')).toBe(0);
    expect([a!.closeReason, b!.closeReason]).toEqual([null, null]);
  }, 20_000);

  it('3x the capacity for many ping intervals: no disconnect, every message answered once, every phone served while others are busy', async () => {
    const PHONES = 6;
    const PER_PHONE = 100;
    // 2 workers x 20 ms = 100 msg/s; 6 phones x 50 msg/s offered = 3x, for 2 s (20 ping intervals).
    const slow = handlerPlugin('e2e-slow', async ({ message }) => {
      await sleep(20);
      return `에코: ${message.text}`;
    });
    const t = await bridge({
      plugins: [slow],
      config: {
        session,
        limits: { maxQueuedPerConnection: 4 },
        pipeline: { queueCapacity: 12, concurrency: { global: 2, perBot: 2, perRoom: 1 }, replyGapMs: 0 },
      },
    });
    const phones = await phonesOf(t, PHONES);
    for (let n = 0; n < PER_PHONE; n++) {
      phones.forEach((phone, i) => phone.analyze({ room: `r${i}`, channelId: `${i + 1}`, text: `p${i}-${n}` }));
      await sleep(20);
    }
    const repliedWhileBusy = phones.map((p) => p.replies.length);
    const replies = await Promise.all(phones.map((phone) => phone.waitForReplies(PER_PHONE, 30_000)));
    await sleep(300);

    expect(counter(t, 'messages', 'admitted')).toBe(PHONES * PER_PHONE);
    phones.forEach((phone, i) => {
      // Exactly once each, in order (one room per phone).
      expect(phone.replies.map((r) => r.text)).toEqual(Array.from({ length: PER_PHONE }, (_, n) => `에코: p${i}-${n}`));
      expect(replies[i]).toHaveLength(PER_PHONE);
      expect(phone.closeReason).toBeNull();
    });
    expect(counter(t, 'disconnects')).toBe(0);
    // It was overload: reading was held back, and while all six kept sending, each one got a
    // fair part of the answers (at least half of an equal share).
    expect(counter(t, 'queue_saturation', 'paused') + counter(t, 'pings_skipped')).toBeGreaterThan(0);
    const total = repliedWhileBusy.reduce((x, y) => x + y, 0);
    expect(total).toBeLessThan(PHONES * PER_PHONE);
    for (const got of repliedWhileBusy) expect(got).toBeGreaterThanOrEqual(Math.floor(total / PHONES / 2));
  }, 40_000);
});
