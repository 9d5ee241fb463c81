import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutgoingReply, SendResult } from '@botbridge/sdk';
import { bridgeConfigSchema } from '@botbridge/sdk/internal';
import { EventBus } from '../../src/events/bridge-events.js';
import { SendGovernor, type GovernorSettings, type SendGovernorDeps } from '../../src/outbound/send-governor.js';

const BOT = 'LOA.i';
const DEVICE = 'd1';

function settings(over: Partial<GovernorSettings> = {}): GovernorSettings {
  return { ...bridgeConfigSchema.parse({}).replies.governor, jitterMs: 0, ...over };
}

function out(room: string, text = room, botName = BOT): OutgoingReply {
  return { reply: { kind: 'text', text }, target: { botName, room, channelId: room }, message: null, traceId: `t-${text}`, index: 0 };
}

/**
 * A governor on the fake clock, recording `text@ms` for every send it lets through. `enqueue`
 * hands it a send the way Outbound does: the write reports itself (a token, the day, the gap).
 */
function make(over: Partial<GovernorSettings> = {}, deps: Partial<SendGovernorDeps> = {}, deliver?: (o: OutgoingReply) => SendResult) {
  const start = Date.now();
  const sent: string[] = [];
  const parked: string[] = [];
  const governor = new SendGovernor({
    settings: settings(over),
    replyGapMs: () => 0,
    deviceOf: () => DEVICE,
    park: (o): SendResult => {
      parked.push((o.reply as { text: string }).text);
      return { status: 'queued', traceId: o.traceId };
    },
    events: new EventBus(),
    now: () => Date.now(),
    random: () => 0.5,
    ...deps,
  });
  const write = (o: OutgoingReply): SendResult => {
    sent.push(`${(o.reply as { text: string }).text}@${Date.now() - start}`);
    governor.sent(o.target.botName, DEVICE, o.target.channelId!);
    return { status: 'written', traceId: o.traceId, deviceId: DEVICE };
  };
  const enqueue = (o: OutgoingReply): Promise<SendResult> => governor.enqueue(o, () => (deliver ?? write)(o));
  return { governor, enqueue, sent, parked };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SendGovernor', () => {
  it('paces one device by its token bucket across rooms (burst, then the sustained rate)', async () => {
    const { enqueue, sent } = make({ ratePerSecond: 10, burst: 2 });
    const results = ['a', 'b', 'c', 'd'].map((room) => enqueue(out(room)));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual(['a@0', 'b@0', 'c@100', 'd@200']);
    expect((await Promise.all(results)).every((r) => r.status === 'written')).toBe(true);
  });

  it('spaces one room by its gap plus jitter, from any send to it (a reply included)', async () => {
    const { governor, enqueue, sent } = make({ roomGapMs: 100, jitterMs: 50, ratePerSecond: 1_000, burst: 100 });
    governor.sent(BOT, 'd1', 'r'); // a reply just went to the room
    for (const text of ['1', '2', '3']) void enqueue(out('r', text));
    await vi.advanceTimersByTimeAsync(1_000);
    // random() is 0.5: each waits 100 + 25 ms after the previous send.
    expect(sent).toEqual(['1@125', '2@250', '3@375']);
  });

  it('lets replies spend the bucket, so proactive sends use what replies leave', async () => {
    const { governor, enqueue, sent } = make({ ratePerSecond: 10, burst: 3 });
    for (let i = 0; i < 6; i += 1) governor.sent(BOT, 'd1', `r${i}`);
    void enqueue(out('x'));
    await vi.advanceTimersByTimeAsync(1_000);
    // Debt floors at -burst (-3): one token takes 4 refills of 100 ms.
    expect(sent).toEqual(['x@400']);
  });

  it('cools a device down after a failed write', async () => {
    const { governor, enqueue, sent } = make({ failureCooldownMs: 5_000 });
    governor.failed(BOT, 'd1');
    void enqueue(out('r'));
    await vi.advanceTimersByTimeAsync(6_000);
    expect(sent).toEqual(['r@5000']);
  });

  it('rejects past the daily cap until the day changes, and beyond the room bound', async () => {
    let day = 'day-1';
    const { enqueue, sent } = make({ dailyCap: 2, maxQueuedPerRoom: 3 }, { today: () => day });
    const first = await Promise.all(['a', 'b', 'c'].map((room) => enqueue(out(room))));
    expect(first.map((r) => (r.status === 'rejected' ? r.reason : r.status))).toEqual(['written', 'written', 'daily_cap']);
    day = 'day-2';
    expect(await enqueue(out('d'))).toMatchObject({ status: 'written' });
    expect(sent).toHaveLength(3);

    const slow = make({ roomGapMs: 1_000, maxQueuedPerRoom: 2 });
    const queued = ['1', '2', '3', '4'].map((text) => slow.enqueue(out('r', text)));
    // '1' went at once; '2' and '3' wait (the bound); '4' is refused now, not dropped later.
    expect(await queued[3]).toMatchObject({ status: 'rejected', reason: 'queue_full' });
    await vi.advanceTimersByTimeAsync(3_000);
    expect((await Promise.all(queued.slice(0, 3))).map((r) => r.status)).toEqual(['written', 'written', 'written']);
  });

  it('takes a room\'s and a bot\'s own pacing over the defaults', async () => {
    const { enqueue, sent } = make({
      roomGapMs: 1_000,
      ratePerSecond: 1_000,
      burst: 100,
      rooms: { [`${BOT}/fast`]: { roomGapMs: 10 } },
      bots: { Other: { roomGapMs: 200 } },
    });
    for (const text of ['f1', 'f2']) void enqueue(out('fast', text));
    for (const text of ['s1', 's2']) void enqueue(out('slow', text));
    for (const text of ['o1', 'o2']) void enqueue(out('room', text, 'Other'));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sent).toEqual(['f1@0', 's1@0', 'o1@0', 'f2@10', 'o2@200', 's2@1000']);
  });

  it('parks what waits at shutdown, and what comes after', async () => {
    const { governor, enqueue, sent, parked } = make({ roomGapMs: 1_000 });
    const results = ['1', '2', '3'].map((text) => enqueue(out('r', text)));
    await governor.drain({ immediate: true });
    expect(sent).toEqual(['1@0']);
    expect(parked).toEqual(['2', '3']);
    expect(await enqueue(out('r', '4'))).toMatchObject({ status: 'queued' });
    expect((await Promise.all(results)).map((r) => r.status)).toEqual(['written', 'queued', 'queued']);
  });

  it('does not pace a send whose bot has no live device (the outbox takes it at once)', async () => {
    const queuedNow: string[] = [];
    const { enqueue } = make({ roomGapMs: 1_000 }, { deviceOf: () => null }, (o) => {
      queuedNow.push((o.reply as { text: string }).text);
      return { status: 'queued', traceId: o.traceId };
    });
    await Promise.all(['1', '2', '3'].map((text) => enqueue(out('r', text))));
    expect(queuedNow).toEqual(['1', '2', '3']);
  });
});
