import { describe, expect, it } from 'vitest';
import { definePlugin, usePlugin, z, type BridgeApi, type MessageContext, type OutgoingReply } from '@botbridge/sdk';
import { BridgeError } from '../../src/errors.js';
import { EventBus } from '../../src/events/bridge-events.js';
import { createHooks, type PluginErrorEvent } from '../../src/hooks.js';
import { createLogger } from '../../src/logger.js';
import { JobAbort } from '../../src/pipeline/dispatcher.js';
import { PluginHost } from '../../src/plugins/plugin-host.js';

const log = createLogger({ level: 'silent' });
const bridge: BridgeApi = {
  clients: () => [],
  reloadApprovals: async () => ({ devices: 0, changed: 0 }),
  send: async () => ({ status: 'written', traceId: 'p-1', deviceId: 'd-1' }),
  database: () => { throw new Error('no database in this test'); },
  appendRow: () => undefined,
};
const settings = { setupTimeoutMs: 200, hookTimeoutMs: 100, teardownTimeoutMs: 100 };

function host(entries: ConstructorParameters<typeof PluginHost>[0], events = new EventBus()) {
  const hooks = createHooks();
  const errors: PluginErrorEvent[] = [];
  const plugins = new PluginHost(entries, { hooks, bridge, log, settings, events, report: (event) => errors.push(event) });
  return { hooks, errors, plugins };
}

function messageContext(abort = new JobAbort()): MessageContext {
  return {
    message: { traceId: 't-1' } as MessageContext['message'],
    room: {} as MessageContext['room'],
    client: {} as MessageContext['client'],
    get signal() {
      return abort.signal;
    },
    abort,
    log,
    reply: async () => [],
  };
}

describe('PluginHost', () => {
  it('validates every config before any setup and names the plugin and the path', () => {
    let setups = 0;
    const first = definePlugin({ name: 'first', setup: () => void (setups += 1) });
    const strict = definePlugin({
      name: 'strict',
      config: z.object({ limits: z.object({ max: z.number().int().positive() }) }),
      setup: () => void (setups += 1),
    });
    const attempt = () => host([first, usePlugin(strict, { limits: { max: -1 } })]);
    expect(attempt).toThrow(BridgeError);
    expect(attempt).toThrow(/^invalid plugin config: plugin strict: limits\.max: /);
    expect(setups).toBe(0);
  });

  it('refuses a plugin listed twice', () => {
    const p = definePlugin({ name: 'twice', setup: () => undefined });
    expect(() => host([p, p])).toThrow(/BRIDGE_ERR_PLUGIN_DUPLICATE|listed twice/);
  });

  it('applies schema defaults to the config setup receives', async () => {
    let seen: unknown;
    const p = definePlugin({ name: 'defaults', config: z.object({ greeting: z.string().default('안녕') }), setup: (_ctx, config) => void (seen = config) });
    await host([p]).plugins.setup();
    expect(seen).toEqual({ greeting: '안녕' });
  });

  it('fails the start when a setup misses its deadline, tearing down the plugins already set up', async () => {
    const order: string[] = [];
    const ok = definePlugin({ name: 'ok', setup: (ctx) => ctx.effect(() => void order.push('ok disposed')) });
    const slow = definePlugin({ name: 'slow', setup: () => new Promise(() => undefined) });
    const { plugins } = host([ok, slow]);
    await expect(plugins.setup()).rejects.toMatchObject({ code: 'BRIDGE_ERR_PLUGIN_SETUP_TIMEOUT' });
    expect(order).toEqual(['ok disposed']);
    expect(plugins.list().map((p) => p.state)).toEqual(['stopped', 'failed']);
  });

  it('isolates a throwing onMessage handler: reported with plugin and hook, the next plugin still answers', async () => {
    const broken = definePlugin({ name: 'broken', setup: (ctx) => ctx.onMessage(() => { throw new Error('boom'); }) });
    const answering = definePlugin({ name: 'answering', setup: (ctx) => ctx.onMessage(() => '응답') });
    const { hooks, errors, plugins } = host([broken, answering]);
    await plugins.setup();
    await expect(hooks.onMessage.promise(messageContext())).resolves.toBe('응답');
    expect(errors).toEqual([expect.objectContaining({ plugin: 'broken', hook: 'onMessage', code: 'BRIDGE_ERR_PLUGIN_HOOK', traceId: 't-1' })]);
    expect(errors[0]!.message).toContain('boom');
  });

  it('stops waiting for an onMessage handler when the message is aborted', async () => {
    const hanging = definePlugin({ name: 'hanging', setup: (ctx) => ctx.onMessage(() => new Promise(() => undefined)) });
    const { hooks, errors, plugins } = host([hanging]);
    await plugins.setup();
    const abort = new JobAbort();
    const result = hooks.onMessage.promise(messageContext(abort));
    abort.abort(new BridgeError('BRIDGE_ERR_PROCESSING_TIMEOUT', { timeoutMs: 5 }));
    await expect(result).resolves.toBeUndefined();
    expect(errors[0]).toMatchObject({ plugin: 'hanging', code: 'BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT' });
  });

  it('runs synchronous and asynchronous onReceive handlers: a throw is reported, a hang times out, the others still run', async () => {
    const seen: string[] = [];
    const sync = definePlugin({ name: 'sync', setup: (ctx) => ctx.onReceive((event) => { seen.push(`sync:${event.message.traceId}`); }) });
    const thrower = definePlugin({ name: 'thrower', setup: (ctx) => ctx.onReceive(() => { throw new Error('bad receive'); }) });
    const slow = definePlugin({ name: 'slow', setup: (ctx) => ctx.onReceive(async (event) => { await Promise.resolve(); seen.push(`async:${event.message.traceId}`); }) });
    const hanging = definePlugin({ name: 'hanging', setup: (ctx) => ctx.onReceive(() => new Promise<void>(() => undefined)) });
    const { hooks, errors, plugins } = host([sync, thrower, slow, hanging]);
    await plugins.setup();
    const event = { message: { traceId: 't-9' }, room: {}, deviceApproved: true, roomApproved: true } as Parameters<typeof hooks.onReceive.promise>[0];
    const started = Date.now();
    await hooks.onReceive.promise(event);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(seen.sort()).toEqual(['async:t-9', 'sync:t-9']);
    expect(errors.map((e) => `${e.plugin}:${e.code}:${e.traceId}`).sort()).toEqual([
      'hanging:BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT:t-9', 'thrower:BRIDGE_ERR_PLUGIN_HOOK:t-9',
    ]);
  });

  it('keeps a reply unchanged when a beforeReply rewrite throws or times out, and honours a drop', async () => {
    const thrower = definePlugin({ name: 'thrower', setup: (ctx) => ctx.beforeReply(() => { throw new Error('bad rewrite'); }) });
    const sleeper = definePlugin({ name: 'sleeper', setup: (ctx) => ctx.beforeReply(() => new Promise(() => undefined)) });
    const rewriter = definePlugin({
      name: 'rewriter',
      setup: (ctx) => ctx.beforeReply((out) => (out.reply.kind === 'text' && out.reply.text === 'drop' ? null : { ...out, reply: { kind: 'text', text: `[봇] ${out.reply.kind === 'text' ? out.reply.text : ''}` } })),
    });
    const { hooks, errors, plugins } = host([thrower, sleeper, rewriter]);
    await plugins.setup();
    const out = { reply: { kind: 'text', text: '안녕' }, target: { botName: 'b', room: 'r', channelId: '1' }, message: null, traceId: 't', index: 0 } satisfies OutgoingReply;
    await expect(hooks.beforeReply.promise(out)).resolves.toMatchObject({ reply: { text: '[봇] 안녕' } });
    expect(errors.map((e) => `${e.plugin}:${e.code}`)).toEqual(['thrower:BRIDGE_ERR_PLUGIN_HOOK', 'sleeper:BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT']);
    await expect(hooks.beforeReply.promise({ ...out, reply: { kind: 'text', text: 'drop' } })).resolves.toBeNull();
  });

  it('refuses registrations after setup with a coded error', async () => {
    let saved: Parameters<Parameters<typeof definePlugin>[0]['setup']>[0] | undefined;
    const p = definePlugin({ name: 'late', setup: (ctx) => void (saved = ctx) });
    await host([p]).plugins.setup();
    expect(() => saved!.onMessage(() => undefined)).toThrow(/BRIDGE_ERR_REGISTER_AFTER_START|cannot register onMessage after start/);
  });

  it('tears down last-set-up-first, clears timers and makes taps inert', async () => {
    const order: string[] = [];
    let ticks = 0;
    const a = definePlugin({ name: 'a', setup: (ctx) => { ctx.effect(() => void order.push('a1')); ctx.effect(() => void order.push('a2')); } });
    const b = definePlugin({
      name: 'b',
      setup: (ctx) => {
        ctx.setInterval(() => void (ticks += 1), 5);
        ctx.onMessage(() => 'still here');
        ctx.effect(() => void order.push('b'));
      },
    });
    const { hooks, plugins } = host([a, b]);
    await plugins.setup();
    await plugins.teardown();
    expect(order).toEqual(['b', 'a2', 'a1']);
    const after = ticks;
    await new Promise((r) => setTimeout(r, 30));
    expect(ticks).toBe(after);
    await expect(hooks.onMessage.promise(messageContext())).resolves.toBeUndefined();
  });

  it('publishes handler timings only to subscribers of its own bridge, and unsubscribes at teardown', async () => {
    const mine = new EventBus();
    const other = new EventBus();
    const timings: unknown[] = [];
    const listener = definePlugin({
      name: 'listener',
      setup: (ctx) => void ctx.events.subscribe('plugin:handler', (event) => timings.push(event)),
    });
    const answering = definePlugin({ name: 'answering', setup: (ctx) => ctx.onMessage(async () => '응답') });
    const { hooks, plugins } = host([listener, answering], mine);
    await plugins.setup();
    await hooks.onMessage.promise(messageContext());
    expect(timings).toEqual([
      expect.objectContaining({ bridge: mine.id, plugin: 'answering', hook: 'onMessage', traceId: 't-1', outcome: 'ok', durationMs: expect.any(Number) }),
    ]);
    other.publish('plugin:handler', { plugin: 'x', hook: 'onMessage', traceId: null, durationMs: 1, outcome: 'ok', at: 0 });
    expect(timings).toHaveLength(1);
    await plugins.teardown();
    expect(mine.active('plugin:handler')).toBe(false);
  });
});
