import { describe, expect, it, vi } from 'vitest';
import type { ClientInfo } from '@botbridge/sdk';
import { resolveConfig } from '../../src/config/load-config.js';
import { EventBus } from '../../src/events/bridge-events.js';
import type { Journal } from '../../src/journal/journal.js';
import { createLogger } from '../../src/logger.js';
import { Counters } from '../../src/metrics/counters.js';
import type { ReplyPath } from '../../src/outbound/reply-path.js';
import { Admission } from '../../src/pipeline/admission.js';
import { Deduplicator } from '../../src/pipeline/dedup.js';
import { Dispatcher } from '../../src/pipeline/dispatcher.js';
import type { MessageJob } from '../../src/pipeline/message-job.js';
import type { MessageSource } from '../../src/pipeline/message-source.js';
import type { AnalyzePacket } from '../../src/protocol/packets.js';

/**
 * A line that reaches admission after close began (read before the shutdown's read hold) is
 * never a handler error: the closed dispatcher would throw BRIDGE_ERR_ENQUEUE_AFTER_CLOSE inside
 * the connection's line handler, which closes the socket and loses the replies of the phone's
 * earlier messages. It is kept in the journal for the next start, or counted and logged.
 */

function packet(text: string, logId: string | null): AnalyzePacket {
  return {
    room: '방', text, sender: '홍길동', isGroupChat: true, isMention: false, channelId: '100', logId, userHash: null,
    timestamp: null, botName: 'bot', clientType: null, packageName: null, threadId: null, legacy: false, auth: null,
  };
}

function setup(options: { journal: boolean }) {
  const { settings } = resolveConfig({});
  const counters = new Counters();
  const dispatcher = new Dispatcher<MessageJob>({ concurrency: { global: 1, perBot: 1, perRoom: 1 }, processingTimeoutMs: 1_000, worker: async () => undefined });
  const record = vi.fn((message: { botName: string; channelId: string | null; logId: string | null }) =>
    message.logId === null ? null : { botName: message.botName, channelId: message.channelId ?? '', logId: message.logId });
  const open = vi.fn();
  const markDone = vi.fn();
  const admission = new Admission({
    settings,
    dedup: new Deduplicator({ windowMs: 60_000, legacyTwinWindowMs: 1_000, maxEntries: 100 }),
    dispatcher,
    replies: { open } as unknown as ReplyPath,
    counters,
    log: createLogger({ level: 'silent', pretty: false }),
    events: new EventBus(counters),
    ...(options.journal && { journal: { record, markDone } as unknown as Journal }),
  });
  const source: MessageSource = {
    botName: 'bot',
    deviceId: 'dev',
    approval: 'approved',
    info: () => ({}) as ClientInfo,
    jobQueued: vi.fn(),
    jobEnded: vi.fn(),
  };
  return { admission, dispatcher, counters, record, open, markDone, source };
}

describe('admission after the dispatcher closed', () => {
  it('keeps a journaled line for the next start instead of throwing', () => {
    const { admission, dispatcher, counters, record, open, source } = setup({ journal: true });
    void dispatcher.close({ graceMs: 0 });
    expect(dispatcher.accepting).toBe(false);
    expect(() => admission.admit(source, packet('늦은 줄', '900001'))).not.toThrow();
    expect(record).toHaveBeenCalledTimes(1);
    expect(counters.get('jobs', 'kept_for_replay')).toBe(1);
    expect(counters.get('messages', 'admitted')).toBe(0);
    // No reply ticket and no admission credit: nothing will answer it in this process.
    expect(open).not.toHaveBeenCalled();
    expect(source.jobQueued).not.toHaveBeenCalled();
    expect(dispatcher.stats().totals.pushed).toBe(0);
  });

  it('counts a line it cannot keep (no log id, or no journal) as abandoned_at_shutdown', () => {
    const journaled = setup({ journal: true });
    void journaled.dispatcher.close({ graceMs: 0 });
    journaled.admission.admit(journaled.source, packet('log id 없음', null));
    expect(journaled.counters.get('jobs', 'abandoned_at_shutdown')).toBe(1);

    const bare = setup({ journal: false });
    void bare.dispatcher.close({ graceMs: 0 });
    bare.admission.admit(bare.source, packet('저널 없음', '900002'));
    expect(bare.counters.get('jobs', 'abandoned_at_shutdown')).toBe(1);
    expect(bare.counters.get('jobs', 'kept_for_replay')).toBe(0);
  });

  it('leaves a journal replay unfinished (not marked done) once the dispatcher closed', () => {
    const { admission, dispatcher, markDone, source } = setup({ journal: true });
    void dispatcher.close({ graceMs: 0 });
    const entry = { botName: 'bot', channelId: '100', logId: '900003', room: '방', text: '재생', sender: '홍길동' } as never;
    expect(admission.admitReplay(source, entry)).toEqual({ dropped: 'shutting_down' });
    expect(markDone).not.toHaveBeenCalled();
  });
});
