import { channel } from 'node:diagnostics_channel';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, usePlugin, z, type BridgeConfig, type PluginEntry } from '@botbridge/sdk';
import { createTestBridge, FakeBridgeClient, type TestBridge } from '@botbridge/testing';
import { commands } from '@botbridge/plugin-commands';
import { profiler } from '@botbridge/plugin-profiler';

/**
 * Hot reload (issue 16, item 4) over real TCP phones and a real store: the plugin set is swapped
 * while 100 phones send, without closing a connection, losing or repeating a reply; a broken
 * config or plugin is refused with the old set serving; dispose runs once; 100 reloads leave
 * handles, listeners, metrics and memory where they were.
 */

let t: TestBridge | undefined;
const phones: FakeBridgeClient[] = [];
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await t?.close();
  t = undefined;
});

/** What each generation's plugin did: setups and disposes by tag. */
const lifecycle = { setups: new Map<string, number>(), disposes: new Map<string, number>(), running: new Map<string, number>() };
const bump = (map: Map<string, number>, tag: string) => map.set(tag, (map.get(tag) ?? 0) + 1);

/** Answers `<tag>:<text>` after `delayMs` (so jobs are in flight when the set is swapped). */
function echo(tag: string, delayMs = 5) {
  return definePlugin({
    name: 'echo',
    version: tag,
    config: z.strictObject({ prefix: z.string().min(1).default(tag) }),
    setup(ctx, config) {
      bump(lifecycle.setups, tag);
      ctx.effect(() => void bump(lifecycle.disposes, tag));
      ctx.onMessage(async ({ message }) => {
        bump(lifecycle.running, tag);
        try {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          return `${config.prefix}:${message.text}`;
        } finally {
          lifecycle.running.set(tag, lifecycle.running.get(tag)! - 1);
        }
      });
    },
  });
}

/** The test bridge's own config, so a reload changes only the plugins (restartRequired stays empty). */
function sameConfig(bridge: TestBridge, plugins: readonly PluginEntry[], extra: Partial<BridgeConfig> = {}): BridgeConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    store: { url: bridge.storeUrl },
    log: { level: 'silent' },
    approval: { autoApprove: true },
    shutdown: { graceMs: 2_000 },
    ...extra,
    plugins,
  };
}

async function connectPhones(bridge: TestBridge, count: number): Promise<FakeBridgeClient[]> {
  const made: FakeBridgeClient[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, (_, k) => bridge.client({ deviceId: `reload-phone-${String(i + k).padStart(3, '0')}` })),
    );
    made.push(...batch);
  }
  phones.push(...made);
  return made;
}

describe('hot reload', { timeout: 30_000 }, () => {
  it('swaps the plugin set under load from 100 phones: 0 disconnects, 0 lost or repeated replies, the new set answers at once', async () => {
    lifecycle.setups.clear();
    lifecycle.disposes.clear();
    // Room for every phone's line at once, so a round's 100 jobs are all running when the set is swapped.
    const pipeline = { replyGapMs: 0, concurrency: { global: 200, perBot: 200, perRoom: 3 } };
    t = await createTestBridge({ plugins: [echo('v1', 40)], config: { pipeline } });
    const bridge = t;
    let closes = 0;
    const onClose = () => void (closes += 1);
    channel('botbridge:connection:close').subscribe(onClose);
    try {
      const all = await connectPhones(bridge, 100);
      const rounds = 16;
      const sent = new Map<string, number>();
      let reloadedAt = 0;
      let inFlightAtSwap = 0;
      let report: Awaited<ReturnType<typeof bridge.bridge.reload>> | undefined;
      // Every phone sends one line per round, 100 ms apart; the set is swapped halfway through.
      for (let round = 0; round < rounds; round += 1) {
        for (const [i, phone] of all.entries()) {
          const text = `p${i}-m${round}`;
          phone.analyze({ text, room: `방${i}`, channelId: String(1_000_000 + i) });
          sent.set(text, performance.now());
        }
        if (round === rounds / 2) {
          // This round's lines are being answered by v1 (40 ms each) while v2 is set up and swapped in.
          await until(() => (lifecycle.running.get('v1') ?? 0) > 0);
          report = await bridge.bridge.reload(sameConfig(bridge, [echo('v2', 40)], { pipeline }));
          reloadedAt = performance.now();
          inFlightAtSwap = lifecycle.running.get('v1') ?? 0;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(report).toMatchObject({ ok: true, generation: 2, plugins: ['echo'], restartRequired: [], error: null });
      // Sent after the reload resolved: must be the new set's, answered within a second of it.
      const probe = all[0]!;
      const probeSentAt = performance.now();
      probe.analyze({ text: 'probe', room: '방0', channelId: '1000000' });

      const replies = await Promise.all(all.map((phone) => phone.waitForReplies(rounds + (phone === probe ? 1 : 0), 20_000)));
      const probeLatency = performance.now() - probeSentAt;
      const seen = new Map<string, string>();
      let v1 = 0;
      let v2 = 0;
      for (const [i, list] of replies.entries()) {
        let sawV2 = false;
        for (const reply of list) {
          const [tag, text] = reply.text.split(':') as [string, string];
          expect(seen.has(text), `reply to ${text} twice`).toBe(false);
          seen.set(text, tag);
          // Room order: once a phone's room got the new set's answer, no old answer follows.
          if (tag === 'v2') sawV2 = true;
          else expect(sawV2, `phone ${i}: v1 after v2`).toBe(false);
          if (tag === 'v1') v1 += 1;
          else v2 += 1;
        }
      }
      expect(seen.size).toBe(sent.size + 1);
      expect(seen.get('probe')).toBe('v2');
      // Lines written after the reload resolved went to the new set.
      for (const [text, at] of sent) if (at > reloadedAt) expect(seen.get(text), text).toBe('v2');
      expect(inFlightAtSwap).toBeGreaterThan(0);
      expect(v1).toBeGreaterThan(0);
      expect(v2).toBeGreaterThan(0);
      expect(closes).toBe(0);
      expect(all.every((phone) => phone.closeReason === null)).toBe(true);
      // Nothing more arrives (no repeated reply after the counts were met).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(all.reduce((n, phone) => n + phone.replies.length, 0)).toBe(sent.size + 1);
      // The wall-clock figure the issue asks for (a loaded 2-core CI machine gets a generous bound).
      console.log(`hot reload under load: ${sent.size} lines from 100 phones, ${v1} answered by v1 (${inFlightAtSwap} of them still running on v1 when the swap returned), ${v2} by v2, reload took ${report!.durationMs} ms, first line after it answered in ${Math.round(probeLatency)} ms`);
      expect(probeLatency).toBeLessThan(5_000);
      expect(lifecycle.disposes.get('v1') ?? 0).toBeLessThanOrEqual(1);
      await until(() => lifecycle.disposes.get('v1') === 1);
      expect(lifecycle.setups.get('v2')).toBe(1);
    } finally {
      channel('botbridge:connection:close').unsubscribe(onClose);
    }
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await t.close();
    t = undefined;
    // Each generation's effects ran exactly once: v1 at its retirement, v2 at close.
    expect(Object.fromEntries(lifecycle.disposes)).toEqual({ v1: 1, v2: 1 });
  });

  it('refuses a broken config or plugin and keeps the old set serving', async () => {
    lifecycle.setups.clear();
    lifecycle.disposes.clear();
    t = await createTestBridge({ plugins: [echo('v1')], captureLogs: true, config: { log: { level: 'info' } } });
    const bridge = t;
    const phone = await bridge.client();
    phones.push(phone);
    await phone.shouldReply('a', 'v1:a');

    // A plugin config that fails its schema.
    const badConfig = await bridge.bridge.reload(sameConfig(bridge, [usePlugin(echo('v2'), { prefix: '' })]));
    expect(badConfig).toMatchObject({ ok: false, generation: 1, plugins: ['echo'], error: { code: 'BRIDGE_ERR_PLUGIN_CONFIG' } });
    expect(badConfig.error!.message).toContain('plugin echo');
    // Invalid bridge settings.
    const badSettings = await bridge.bridge.reload({ ...sameConfig(bridge, [echo('v2')]), pipeline: { replyGapMs: -1 } });
    expect(badSettings).toMatchObject({ ok: false, generation: 1, error: { code: 'BRIDGE_ERR_CONFIG_INVALID' } });
    // A setup that throws after another plugin of the new set was set up: that one is torn down.
    const failing = definePlugin({ name: 'failing', setup: () => Promise.reject(new Error('no database')) });
    const badSetup = await bridge.bridge.reload(sameConfig(bridge, [echo('v2'), failing]));
    expect(badSetup).toMatchObject({ ok: false, generation: 1, error: { code: 'BRIDGE_ERR_PLUGIN_SETUP' } });
    expect(badSetup.error!.message).toContain('no database');
    expect(lifecycle.setups.get('v2')).toBe(1);
    expect(lifecycle.disposes.get('v2')).toBe(1);
    await bridge.waitForLog('reload refused; the previous plugin set goes on serving');

    await phone.shouldReply('b', 'v1:b');
    expect(bridge.bridge.pluginStates()).toMatchObject([{ name: 'echo', version: 'v1', state: 'running', error: null, generation: 1 }]);
    expect(lifecycle.disposes.get('v1')).toBeUndefined();

    // A restart-only change is accepted for the plugins and reported, never applied.
    const moved = await bridge.bridge.reload({ ...sameConfig(bridge, [echo('v3')]), log: { level: 'info' }, listen: { host: '127.0.0.1', port: 1 }, limits: { maxConnections: 7 } });
    expect(moved).toMatchObject({ ok: true, generation: 2, restartRequired: ['limits.maxConnections', 'listen.port'] });
    await phone.shouldReply('c', 'v3:c');
    expect(bridge.bridge.address!.port).toBe(bridge.port);
    await until(() => lifecycle.disposes.get('v1') === 1);
  });

  it('keeps a running message on the plugin set it started on (its beforeReply included) and stops the old set\'s subscriptions and timers at the swap', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const logged: string[] = [];
    const ticks = new Map<string, number>();
    const stamped = (tag: string) => definePlugin({
      name: 'stamped',
      setup(ctx) {
        // Background work of the kind a chat log or a scheduler does: it must not run twice during the swap.
        ctx.on('reply:sent', (event) => void logged.push(`${tag} logged ${event.text}`));
        ctx.setInterval(() => void bump(ticks, tag), 10);
        ctx.onMessage(async ({ message }) => {
          if (message.text === 'hold') await gate;
          return `${message.text} by ${tag}`;
        });
        ctx.beforeReply((out) => (out.reply.kind === 'text' ? { ...out, reply: { kind: 'text', text: `${out.reply.text} [${tag}]` } } : out));
      },
    });
    t = await createTestBridge({ plugins: [stamped('v1')] });
    const bridge = t;
    const phone = await bridge.client();
    phones.push(phone);
    const held = await bridge.client({ deviceId: 'held-phone-0001' });
    phones.push(held);
    held.analyze({ text: 'hold', room: '대기방', channelId: '777' });
    await until(() => bridge.bridge.admin.stats().dispatcher.running === 1);
    const report = await bridge.bridge.reload(sameConfig(bridge, [stamped('v2')]));
    expect(report).toMatchObject({ ok: true, generation: 2 });
    // The old set stays until its message is done.
    expect(bridge.bridge.pluginStates().map((p) => [p.generation, p.state])).toEqual([[2, 'running'], [1, 'retiring']]);
    await phone.shouldReply('new', 'new by v2 [v2]');
    // The old set's timers stopped at the swap although its message still runs.
    const v1Ticks = ticks.get('v1') ?? 0;
    await until(() => (ticks.get('v2') ?? 0) >= 5);
    expect(ticks.get('v1') ?? 0).toBe(v1Ticks);
    release();
    expect((await held.nextReply()).text).toBe('hold by v1 [v1]');
    await until(() => bridge.bridge.pluginStates().length === 1);
    // Each reply recorded once, by the set current when it was sent: never by both.
    await until(() => logged.length === 2);
    expect(logged).toEqual(['v2 logged new by v2 [v2]', 'v2 logged hold by v1 [v1]']);
  });

  it('leaves no handle, listener, metric or memory behind over 100 reloads', async () => {
    const subscribed = channel('botbridge:ping') as unknown as { _subscribers?: unknown[] };
    // Every context a setup received: a retired plugin set that something still holds keeps its context (and its hooks) alive.
    const contexts: WeakRef<object>[] = [];
    const leaky = (n: number) => definePlugin({
      name: 'leaky',
      setup(ctx) {
        contexts.push(new WeakRef(ctx));
        ctx.setInterval(() => undefined, 60_000);
        ctx.setTimeout(() => undefined, 60_000);
        ctx.on('ping', () => undefined);
        ctx.on('onMessage', ({ message }) => (message.text === 'gen' ? `gen ${n}` : undefined));
        ctx.metrics.counter({ name: 'botbridge_leaky_total', help: 'reloads', labelNames: ['n'] }).inc({ n: 'x' });
      },
    });
    const plugins = (n: number): PluginEntry[] => [commands, profiler, leaky(n)];
    t = await createTestBridge({ plugins: plugins(0) });
    const bridge = t;
    const phone = await bridge.client();
    phones.push(phone);
    const reloadOnce = async (n: number) => {
      const report = await bridge.bridge.reload(sameConfig(bridge, plugins(n)));
      expect(report.ok, report.error?.message).toBe(true);
    };
    // Warm up (first reload allocates what every later one reuses), then measure.
    for (let n = 1; n <= 5; n += 1) await reloadOnce(n);
    await phone.shouldReply('gen', 'gen 5');
    await settled(bridge);
    const before = snapshot(bridge, subscribed);
    const started = performance.now();
    for (let n = 6; n <= 105; n += 1) {
      await reloadOnce(n);
      if (n % 10 === 0) await phone.shouldReply('gen', `gen ${n}`);
    }
    const reloadsMs = performance.now() - started;
    await phone.shouldReply('gen', 'gen 105');
    await settled(bridge);
    const after = snapshot(bridge, subscribed);
    console.log(`100 reloads in ${Math.round(reloadsMs)} ms: rss ${mb(before.rss)} → ${mb(after.rss)} MiB, heap ${mb(before.heap)} → ${mb(after.heap)} MiB, resources ${JSON.stringify(before.resources)} → ${JSON.stringify(after.resources)}, metrics ${before.metrics} → ${after.metrics}, ping subscribers ${before.subscribers} → ${after.subscribers}`);
    // A few timers come and go with the store's writers and the phone's pings; a leak is one per reload.
    for (const kind of new Set([...Object.keys(before.resources), ...Object.keys(after.resources)])) {
      expect(after.resources[kind] ?? 0, kind).toBeLessThanOrEqual((before.resources[kind] ?? 0) + 3);
    }
    expect(after.metrics).toBe(before.metrics);
    // Collected: the 105 retired sets' contexts (only the current one, maybe one more not yet swept, remain).
    expect(contexts.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(2);
    expect(after.subscribers).toBe(before.subscribers);
    expect(bridge.bridge.pluginStates().map((p) => [p.name, p.state, p.generation])).toEqual([
      ['commands', 'running', 106], ['profiler', 'running', 106], ['leaky', 'running', 106],
    ]);
    // Generous: a leaked generation (hooks, contexts, closures) per reload would add far more.
    expect(after.heap - before.heap).toBeLessThan(20 * 2 ** 20);
    expect(after.rss - before.rss).toBeLessThan(64 * 2 ** 20);
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Retired sets are torn down (no job pins them) and garbage is collected. */
async function settled(bridge: TestBridge): Promise<void> {
  await until(() => bridge.bridge.pluginStates().every((p) => p.state === 'running'));
  const gc = collector();
  for (let i = 0; i < 3; i += 1) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `gc` from a fresh context once the flag is set (as monitor/memory-relief.ts does), without touching this global. */
function collector(): (() => void) | undefined {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as (() => void) | undefined;
}

function snapshot(bridge: TestBridge, ping: { _subscribers?: unknown[] }) {
  const resources: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
  const usage = process.memoryUsage();
  return {
    resources,
    metrics: bridge.bridge.metricsRegistry.getMetricsAsArray().length,
    subscribers: Array.isArray(ping._subscribers) ? ping._subscribers.length : -1,
    rss: usage.rss,
    heap: usage.heapUsed,
  };
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
