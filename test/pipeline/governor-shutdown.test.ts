import { describe, expect, it } from 'vitest';
import { createTestBridge, type FakeBridgeClient, type TestBridge, type TestBridgeOptions } from '@botbridge/testing';
import { sharedStoreUrl, useCleanups } from './restart-fixtures.js';

/**
 * The send governor at shutdown, with the real store: proactive sends still waiting for their
 * turn are not lost and not blurted out in a burst; they are parked in the outbox (`queued`)
 * and delivered, in order, after the restart.
 */

const BOT = 'governor-bot';
const DEVICE = 'governor-dev-1';
const target = { botName: BOT, room: '공지방', channelId: '5151' };

const cleanup = useCleanups();

async function start(options: TestBridgeOptions): Promise<TestBridge> {
  const t = await createTestBridge({ autoApprove: true, ...options });
  cleanup(() => t.close());
  return t;
}

async function phone(t: TestBridge): Promise<FakeBridgeClient> {
  const client = await t.client({ botName: BOT, deviceId: DEVICE });
  cleanup(() => client.close());
  return client;
}

describe('send governor at shutdown', () => {
  it('parks waiting proactive sends in the outbox and delivers them in order after the restart', async () => {
    const url = await sharedStoreUrl(cleanup, 'governor');
    // The outbox delivers a backlog spaced by the room's reply gap.
    const config = { store: { url }, pipeline: { replyGapMs: 100 }, replies: { governor: { roomGapMs: 300, jitterMs: 0 } } };
    const first = await start({ config });
    const before = await phone(first);
    const texts = Array.from({ length: 10 }, (_, i) => `공지 ${i}`);
    const results = texts.map((text) => first.bridge.send(target, text));
    expect((await before.nextReply()).text).toBe('공지 0');
    await first.close();
    const settled = await Promise.all(results);

    const written = before.replies.map((r) => r.text);
    expect(written).toEqual(texts.slice(0, written.length));
    expect(settled.slice(0, written.length).every((r) => r.status === 'written')).toBe(true);
    const parked = settled.slice(written.length);
    expect(parked.length).toBeGreaterThanOrEqual(5);
    expect(parked.every((r) => r.status === 'queued')).toBe(true);

    const second = await start({ config });
    const after = await phone(second);
    const delivered = await after.waitForReplies(parked.length, 15_000);
    expect(delivered.map((r) => r.text)).toEqual(texts.slice(written.length));
  });
});
