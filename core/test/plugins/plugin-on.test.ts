import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, type BridgeEventMap, type Disposer, type PluginContext } from '@botbridge/sdk';
import { createTestBridge, type TestBridge } from '@botbridge/testing';

/** A plugin event, declared the way a plugin package declares its own. */
declare module '@botbridge/sdk' {
  interface BridgeEventMap {
    'probe:seen': { readonly bridge: string; readonly at: number; readonly text: string };
  }
}

/** `ctx.on` through a real bridge, a real plugin and a fake phone over TCP. */

let t: TestBridge | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Answers every message a later plugin would otherwise leave unanswered. */
const fallback = definePlugin({
  name: 'fallback',
  setup: (ctx) => ctx.on('onMessage', ({ message }) => `fallback: ${message.text}`),
});

const thrower = definePlugin({
  name: 'thrower',
  setup(ctx) {
    ctx.on('onMessage', ({ message }) => {
      if (message.text === 'boom') throw new Error('thrower failed');
      return undefined;
    });
  },
});

describe('ctx.on', () => {
  it('returns disposers that really unsubscribe a hook handler and an event handler', async () => {
    const admitted: string[] = [];
    let offMessage: Disposer = () => {};
    let offAdmitted: Disposer = () => {};
    const probe = definePlugin({
      name: 'probe',
      setup(ctx) {
        offAdmitted = ctx.on('message:admitted', (event) => void admitted.push(event.text));
        offMessage = ctx.on('onMessage', ({ message }) => (message.text.startsWith('probe') ? `probe: ${message.text}` : undefined));
      },
    });
    t = await createTestBridge({ plugins: [probe, fallback], config: { pipeline: { replyGapMs: 0 } } });
    const phone = await t.client();
    await phone.shouldReply('probe a', 'probe: probe a');
    expect(admitted).toEqual(['probe a']);

    offMessage();
    offAdmitted();
    // The next plugin answers now; the reply comes after admission, so a live subscription would have seen it.
    await phone.shouldReply('probe b', 'fallback: probe b');
    expect(admitted).toEqual(['probe a']);
    offMessage(); // a second call is harmless
    await phone.shouldReply('probe c', 'fallback: probe c');
  });

  it('reaches onStart before the listener accepts and onClose before the plugin is torn down', async () => {
    const steps: string[] = [];
    const life = definePlugin({
      name: 'life',
      setup(ctx) {
        ctx.on('onStart', async () => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          steps.push('start');
        });
        ctx.on('onClose', () => void steps.push('close'));
        ctx.effect(() => void steps.push('teardown'));
        steps.push('setup');
      },
    });
    t = await createTestBridge({ plugins: [life] });
    expect(steps).toEqual(['setup', 'start']);
    await t.client();
    const running = t;
    t = undefined;
    await running.close();
    expect(steps).toEqual(['setup', 'start', 'close', 'teardown']);
  });

  it('delivers plugin:error to another plugin when a handler throws', async () => {
    const errors: BridgeEventMap['plugin:error'][] = [];
    const watcher = definePlugin({
      name: 'watcher',
      setup: (ctx) => ctx.on('plugin:error', (event) => void errors.push(event)),
    });
    t = await createTestBridge({ plugins: [watcher, thrower, fallback], config: { pipeline: { replyGapMs: 0 } } });
    const phone = await t.client();
    phone.analyze('boom');
    expect((await phone.nextReply()).text).toBe('fallback: boom');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      plugin: 'thrower',
      hook: 'onMessage',
      code: 'BRIDGE_ERR_PLUGIN_HOOK',
      traceId: expect.any(String),
      bridge: t.bridge.events.id,
    });
    expect(errors[0]!.message).toContain('thrower failed');
    expect(t.bridge.admin.counters.get('plugin_errors', 'thrower:onMessage')).toBe(1);
  });

  it('refuses a plugin publishing a core event, and round-trips a plugin-declared event', async () => {
    let context: PluginContext | undefined;
    const seen: BridgeEventMap['probe:seen'][] = [];
    const publisher = definePlugin({
      name: 'publisher',
      setup(ctx) {
        context = ctx;
        ctx.on('onReceive', ({ message }) => ctx.events.publish('probe:seen', { text: message.text }));
      },
    });
    const listener = definePlugin({
      name: 'listener',
      setup: (ctx) => ctx.on('probe:seen', (event) => void seen.push(event)),
    });
    t = await createTestBridge({ plugins: [publisher, listener, fallback], config: { pipeline: { replyGapMs: 0 } } });
    const forged = () => context!.events.publish('ping' as never, { botName: 'x' } as never);
    expect(forged).toThrow(expect.objectContaining({ code: 'BRIDGE_ERR_EVENT_NOT_PUBLISHABLE' }));
    expect(t.bridge.admin.counters.get('pings_answered')).toBe(0);

    const phone = await t.client();
    await phone.shouldReply('hello', 'fallback: hello');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ text: 'hello', bridge: t.bridge.events.id });
    expect(typeof seen[0]!.at).toBe('number');
  });

  it('refuses a hook registered after setup with BRIDGE_ERR_REGISTER_AFTER_START; events stay open', async () => {
    let context: PluginContext | undefined;
    const late = definePlugin({
      name: 'late',
      setup(ctx) {
        context = ctx;
      },
    });
    t = await createTestBridge({ plugins: [late, fallback], config: { pipeline: { replyGapMs: 0 } } });
    expect(() => context!.on('onMessage', () => 'late')).toThrow(expect.objectContaining({ code: 'BRIDGE_ERR_REGISTER_AFTER_START' }));
    expect(() => context!.onReceive(() => {})).toThrow(expect.objectContaining({ code: 'BRIDGE_ERR_REGISTER_AFTER_START' }));
    const admitted: string[] = [];
    const off = context!.on('message:admitted', (event) => void admitted.push(event.text));
    const phone = await t.client();
    await phone.shouldReply('after', 'fallback: after');
    expect(admitted).toEqual(['after']);
    off();
  });
});
