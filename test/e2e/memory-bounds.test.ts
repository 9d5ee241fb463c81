import { describe, expect, it } from 'vitest';
import { usePlugin } from '@botbridge/sdk';
import { chatLog } from '@botbridge/plugin-chat-log';
import { counter, echoPlugin, useBridges } from './helpers.js';

/**
 * Issue 11 (memory stays bounded): the bridge's own buffers stay within their configured caps
 * over real TCP, and are empty once the traffic has been answered. Bounds on counts, not time.
 */

const { bridge } = useBridges();

describe('memory bounds of a running bridge', () => {
  it('remembers at most pipeline.dedupMaxEntries ids, and still drops a recent resend', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { pipeline: { dedupMaxEntries: 50 } } });
    const phone = await t.client();
    for (let i = 0; i < 300; i += 1) phone.analyze({ text: `m${i}`, logId: String(1_000_000 + i) });
    await phone.waitForReplies(300);
    const { buffered } = t.bridge.stats();
    expect(buffered.dedup).toBeLessThanOrEqual(50);
    expect(buffered.dedup).toBeGreaterThan(0);
    // The newest id is within the cap: its resend is a duplicate. The oldest was evicted.
    phone.analyze({ text: 'm299 again', logId: String(1_000_299) });
    phone.analyze({ text: 'm0 again', logId: String(1_000_000) });
    expect((await phone.waitForReplies(1)).map((r) => r.text)).toEqual(['에코: m0 again']);
    expect(counter(t, 'dedup_drops')).toBe(1);
  });

  it('leaves no write or journal buffer behind once the replies are out', async () => {
    const t = await bridge({ plugins: [echoPlugin, usePlugin(chatLog, {})] });
    const phone = await t.client();
    for (let i = 0; i < 200; i += 1) phone.analyze({ text: `m${i}`, logId: String(2_000_000 + i) });
    await phone.waitForReplies(200);
    // 200 received + 200 replies were buffered for the chat log; all of them leave the buffer.
    await expect.poll(() => counter(t, 'store_rows_written', 'chat_log'), { timeout: 10_000 }).toBe(400);
    await expect.poll(() => t.bridge.stats().buffered.journal, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => t.bridge.stats().writers.chatLog + t.bridge.stats().writers.ping, { timeout: 10_000 }).toBe(0);
    // The system sampler's first row may still wait for its flush.
    expect(t.bridge.stats().writers.system).toBeLessThanOrEqual(1);
  });
});
