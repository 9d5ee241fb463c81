import { describe, expect, it } from 'vitest';
import { CORE_EVENT_NAMES, definePlugin, type BridgeEventMap, type BridgeEventName } from '@botbridge/sdk';
import { createBridge } from '@botbridge/core';
import { isBridgeError } from '../../core/src/errors.js';
import { BOT, CHANNEL, DEVICE, echoPlugin, eventually, useBridges } from './helpers.js';

/** Bridge.inject: the sandbox's socket-free entry into the full pipeline. */

const { bridge } = useBridges();

type Seen = { name: BridgeEventName; event: BridgeEventMap[BridgeEventName] };

function recorder(seen: Seen[]) {
  return definePlugin({
    name: 'recorder',
    setup(ctx) {
      for (const name of CORE_EVENT_NAMES) ctx.events.subscribe(name, (event) => void seen.push({ name, event }));
    },
  });
}

const input = { botName: BOT, deviceId: DEVICE, room: '테스트방', channelId: CHANNEL, text: '# echo 안녕', sender: '운영자' };

describe('Bridge.inject', () => {
  it('runs a line as if the device sent it: hooks, ordering, a real reply to the live device, one trace', async () => {
    const seen: Seen[] = [];
    const t = await bridge({ plugins: [recorder(seen), echoPlugin] });
    const phone = await t.client();
    const result = t.bridge.inject(input);
    expect(result).toEqual({ traceId: expect.any(String) });
    const reply = await phone.nextReply();
    expect(reply).toMatchObject({ room: '테스트방', channel_id: CHANNEL, text: '에코: # echo 안녕' });
    await eventually('finished', () => seen.some((s) => s.name === 'message:finished'));
    const traceId = (result as { traceId: string }).traceId;
    const trace = seen.filter((s) => 'traceId' in s.event && s.event.traceId === traceId).map((s) => s.name);
    expect(trace).toEqual(['message:admitted', 'message:started', 'message:routed', 'plugin:handler', 'reply:queued', 'reply:sent', 'reply:result', 'message:finished']);
    expect(seen.find((s) => s.name === 'message:admitted')!.event).toMatchObject({ sender: '운영자', deviceId: DEVICE });
    expect(t.bridge.admin.counters.get('messages', 'injected')).toBe(1);
  });

  it('is not deduplicated: the same line twice is processed twice', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    t.bridge.inject(input);
    t.bridge.inject(input);
    const replies = await phone.waitForReplies(2);
    expect(replies.map((r) => r.text)).toEqual(['에코: # echo 안녕', '에코: # echo 안녕']);
  });

  it('applies device and room approval (an unknown device is pending) and never answers then', async () => {
    const seen: Seen[] = [];
    const t = await bridge({ plugins: [recorder(seen), echoPlugin], autoApprove: false });
    const phone = await t.client();
    t.bridge.inject({ ...input, deviceId: 'unknown-device-0001' });
    await eventually('finished', () => seen.some((s) => s.name === 'message:finished'));
    expect(seen.find((s) => s.name === 'message:finished')!.event).toMatchObject({ outcome: 'not-approved' });
    expect(seen.filter((s) => s.name === 'reply:queued' || s.name === 'reply:sent')).toEqual([]);
    expect(phone.replies).toEqual([]);
    // The room was registered as pending by the injected line, as a real first message would.
    expect((await t.bridge.admin.room(BOT, CHANNEL))?.status).toBe('pending');
  });

  it('routes the reply of a disconnected device to another live device of the bot', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const other = await t.client({ deviceId: 'other-device-0002' });
    await t.setDeviceStatus(BOT, DEVICE, 'approved');
    t.bridge.inject(input);
    expect((await other.nextReply()).text).toBe('에코: # echo 안녕');
  });

  it('refuses when the bridge is not running, and refuses a malformed channel id', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    let error: unknown;
    try {
      t.bridge.inject({ ...input, channelId: '12ab' });
    } catch (e) {
      error = e;
    }
    expect(isBridgeError(error, 'BRIDGE_ERR_PACKET_INVALID')).toBe(true);
    expect(t.bridge.inject({ ...input, text: '' })).toEqual({ dropped: 'empty_text' });

    const idle = createBridge({ config: { log: { level: 'silent' } } });
    expect(() => idle.inject(input)).toThrow(/not running/);
  });
});
