import { describe, expect, it } from 'vitest';
import { CORE_EVENT_NAMES, definePlugin, type BridgeEventMap, type BridgeEventName } from '@botbridge/sdk';
import { echoPlugin, fastSession, useBridges } from './helpers.js';

/** The live event stream that the debug channel and profilers build on. */

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

describe('event stream', () => {
  it('follows one message from arrival to its reply under one trace id, in causal order', async () => {
    const seen: Seen[] = [];
    const t = await bridge({ plugins: [recorder(seen), echoPlugin], config: { session: fastSession } });
    const phone = await t.client();
    await phone.shouldReply('안녕', '에코: 안녕');
    await phone.nextPacket('ping');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const names = seen.map((s) => s.name);
    expect(names.slice(0, 2)).toEqual(['connection:open', 'connection:handshake']);
    const admitted = seen.find((s) => s.name === 'message:admitted')!.event as BridgeEventMap['message:admitted'];
    expect(admitted).toMatchObject({ bridge: t.bridge.events.id, botName: 'LOA.i', room: '테스트방', text: '안녕' });
    const trace = seen.filter((s) => 'traceId' in s.event && s.event.traceId === admitted.traceId).map((s) => s.name);
    expect(trace).toEqual(['message:admitted', 'message:started', 'message:routed', 'plugin:handler', 'reply:queued', 'reply:sent', 'reply:result', 'message:finished']);
    const sent = seen.find((s) => s.name === 'reply:sent')!.event as BridgeEventMap['reply:sent'];
    expect(sent).toMatchObject({ ok: true, kind: 'text', text: '에코: 안녕', index: 0, deviceId: 'a1b2c3d4e5f60718' });
    const finished = seen.find((s) => s.name === 'message:finished')!.event as BridgeEventMap['message:finished'];
    expect(finished.outcome).toBe('replied');
    const handler = seen.find((s) => s.name === 'plugin:handler')!.event as BridgeEventMap['plugin:handler'];
    expect(handler).toMatchObject({ plugin: 'e2e-echo', hook: 'onMessage', outcome: 'ok' });
    expect(handler.durationMs).toBeLessThanOrEqual(finished.durationMs);
    // Event times are monotonic along the trace.
    const times = seen.filter((s) => 'traceId' in s.event && s.event.traceId === admitted.traceId).map((s) => s.event.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(names).toContain('ping');
  });

  it('reports drops, not-approved messages and closes', async () => {
    const seen: Seen[] = [];
    const t = await bridge({ plugins: [recorder(seen), echoPlugin], autoApprove: false });
    const phone = await t.client();
    const sent = phone.analyze('한 번');
    phone.analyze({ text: sent.text, logId: sent.logId });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await phone.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.find((s) => s.name === 'message:dropped')?.event).toMatchObject({ reason: 'duplicate', room: '테스트방' });
    expect(seen.find((s) => s.name === 'message:finished')?.event).toMatchObject({ outcome: 'not-approved' });
    expect(seen.find((s) => s.name === 'connection:handshake')?.event).toMatchObject({ result: 'registered' });
    expect(seen.find((s) => s.name === 'connection:close')?.event).toMatchObject({ botName: 'LOA.i', reason: 'client-closed' });
  });

  it('publishes nothing when nobody subscribes', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    for (const name of CORE_EVENT_NAMES) expect(t.bridge.events.active(name)).toBe(false);
    const phone = await t.client();
    await phone.shouldReply('x', '에코: x');
  });
});
