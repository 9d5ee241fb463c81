import { describe, expect, it } from 'vitest';
import { createTestBridge, type TestBridge, type TestBridgeOptions } from '@botbridge/testing';
import { openStore } from '@botbridge/core';
import { useCleanups, sharedStoreUrl, echo, stuck } from './restart-fixtures.js';

/**
 * The journal across a restart, through real TCP and one store shared by two bridges in turn
 * (a SQLite file, or a MariaDB database with BOTBRIDGE_TEST_STORE): a message seen before the
 * restart is a duplicate after it, and what a shutdown left unfinished is answered exactly once
 * by the next bridge, in room order, once the phone is back.
 */

const cleanup = useCleanups();

const sharedStore = () => sharedStoreUrl(cleanup, 'journal');

async function start(url: string, plugins: TestBridgeOptions['plugins'], extra: TestBridgeOptions['config'] = {}): Promise<TestBridge> {
  const t = await createTestBridge({ plugins, config: { store: { url }, pipeline: { replyGapMs: 0 }, ...extra } });
  cleanup(() => t.close());
  return t;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('journal across a restart', () => {
  it('drops a message seen before the restart as a duplicate (dedup memory survives)', async () => {
    const url = await sharedStore();
    const first = await start(url, [echo]);
    const phone1 = await first.client({ botName: 'journal-bot', deviceId: 'dev-1' });
    phone1.analyze({ text: '하나', logId: '900001', channelId: '100', room: '방' });
    expect((await phone1.nextReply(5_000)).text).toBe('echo: 하나');
    await phone1.close();
    await first.close();

    const second = await start(url, [echo]);
    const phone2 = await second.client({ botName: 'journal-bot', deviceId: 'dev-1' });
    // Same room: were the resend processed, its reply would come first (replies keep room order).
    phone2.analyze({ text: '하나', logId: '900001', channelId: '100', room: '방' });
    phone2.analyze({ text: '둘', logId: '900002', channelId: '100', room: '방' });
    expect((await phone2.nextReply(5_000)).text).toBe('echo: 둘');
    expect(second.bridge.admin.counters.get('dedup_drops', 'duplicate')).toBe(1);
    expect(phone2.replies).toHaveLength(1);
  });

  it('answers what a shutdown left unfinished exactly once after the restart, in room order', async () => {
    const url = await sharedStore();
    // The test reads the journal through a store of its own (the bridge's parts are private).
    const inspector = await openStore(url);
    cleanup(() => inspector.close());
    const first = await start(url, [stuck], { shutdown: { graceMs: 200 }, pipeline: { replyGapMs: 0, concurrency: { perRoom: 1 } } });
    const phone1 = await first.client({ botName: 'journal-bot', deviceId: 'dev-1' });
    for (const [i, text] of ['가', '나', '다'].entries()) phone1.analyze({ text, logId: String(800_001 + i), channelId: '200', room: '방' });
    // Admitted and committed: one running (held by the plugin), two queued.
    await waitFor(async () => (await inspector.journalPending(10)).length === 3);
    await first.close();
    // The running job was aborted before it replied, the two queued never ran: all three are kept.
    expect(first.bridge.admin.counters.get('jobs', 'kept_for_replay')).toBe(3);
    expect(phone1.replies).toHaveLength(0);

    const second = await start(url, [echo]);
    const phone2 = await second.client({ botName: 'journal-bot', deviceId: 'dev-1' });
    const replies = await phone2.waitForReplies(3, 10_000);
    expect(replies.map((r) => r.text)).toEqual(['echo: 가', 'echo: 나', 'echo: 다']);
    // Done marks follow the replies; once none is pending, no reply can still come.
    await waitFor(async () => (await inspector.journalPending(10)).length === 0);
    expect(second.bridge.admin.counters.get('journal_replay', 'replayed')).toBe(3);
    expect(phone2.replies).toHaveLength(3);
  });
});
