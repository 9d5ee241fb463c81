import { describe, expect, it } from 'vitest';
import type { OutgoingReply, SendResult } from '@botbridge/sdk';
import { EventBus } from '../../core/src/events/bridge-events.js';
import { createHooks } from '../../core/src/hooks.js';
import type { CoreLogger } from '../../core/src/logger.js';
import { Counters } from '../../core/src/metrics/counters.js';
import type { Outbound } from '../../core/src/outbound/outbound.js';
import { ReplyPath } from '../../core/src/outbound/reply-path.js';

/**
 * Shutdown's per-device count (ReplyPath.watchDevices): replies already waiting in a room's
 * order when the watch starts and replies emitted after it are counted per device, and each
 * device is reported clear once its last one was handed to outbound, so its connection can close.
 */

const ROOM = 'bot\u0000100';
const silent = { warn() {}, error() {}, info() {}, debug() {} } as unknown as CoreLogger;

function replyPath() {
  const delivered: string[] = [];
  const outbound = {
    refusal: () => null,
    drainPaced: () => Promise.resolve(),
    deliver: (out: OutgoingReply): SendResult => {
      delivered.push(`${out.target.deviceId}:${out.reply.kind === 'text' ? out.reply.text : ''}`);
      return { status: 'written', traceId: out.traceId, deviceId: out.target.deviceId ?? '' };
    },
  } as unknown as Outbound;
  const path = new ReplyPath({ outbound, hooks: createHooks(), log: silent, events: new EventBus(new Counters()), holdMs: 60_000, gapMs: 0 });
  return { path, delivered };
}

const out = (deviceId: string | null, text: string): OutgoingReply => ({
  reply: { kind: 'text', text },
  target: { botName: 'bot', room: '방', channelId: '100', deviceId },
  message: null,
  traceId: `t-${text}`,
  index: 0,
});

describe('ReplyPath.watchDevices', () => {
  it('counts held replies and later ones per device, and reports each device clear once its replies went out', async () => {
    const { path, delivered } = replyPath();
    const first = path.open(ROOM);
    const second = path.open(ROOM);
    // Held behind the first message of the room when the watch starts.
    await path.reply(second, [out('B', 'b1'), out('B', 'b2')], false);
    path.finish(second);
    expect(delivered).toEqual([]);

    const clear: string[] = [];
    const watch = path.watchDevices((botName, deviceId) => clear.push(`${botName}/${deviceId}`));
    expect(watch.pending('bot', 'B')).toBe(2);
    expect(watch.pending('bot', 'A')).toBe(0);

    // Emitted after the watch began (the room's head: out at once); a room send without a device counts for none.
    await path.reply(first, [out('A', 'a1'), out(null, 'room')], false);
    await Promise.resolve();
    expect(delivered).toEqual(['A:a1', 'null:room']);
    expect(clear).toEqual(['bot/A']);
    expect(watch.pending('bot', 'B')).toBe(2);

    path.finish(first);
    await path.drain();
    expect(delivered).toEqual(['A:a1', 'null:room', 'B:b1', 'B:b2']);
    expect(clear).toEqual(['bot/A', 'bot/B']);
    expect(watch.pending('bot', 'B')).toBe(0);
    expect(path.watchDevices(() => undefined)).toBe(watch);
  });
});
