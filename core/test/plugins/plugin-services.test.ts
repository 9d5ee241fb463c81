import { describe, expect, it } from 'vitest';
import { definePlugin, type BridgeApi, type PluginContext } from '@botbridge/sdk';
import { BridgeError } from '../../src/errors.js';
import { EventBus } from '../../src/events/bridge-events.js';
import { createHooks } from '../../src/hooks.js';
import { createLogger } from '../../src/logger.js';
import { PluginHost } from '../../src/plugins/plugin-host.js';

/** A service the way a plugin declares one: by augmenting the sdk's table (test-only name). */
interface Tally {
  add(item: string): void;
  readonly items: ReadonlySet<string>;
}
declare module '@botbridge/sdk' {
  interface BridgeServices {
    'test:tally': Tally;
  }
}

const log = createLogger({ level: 'silent' });
const bridge: BridgeApi = {
  clients: () => [],
  reloadApprovals: async () => ({ devices: 0, changed: 0 }),
  send: async () => ({ status: 'written', traceId: 'p-1', deviceId: 'd-1' }),
  database: () => { throw new Error('no database in this test'); },
  appendRow: () => undefined,
};
const settings = { setupTimeoutMs: 200, hookTimeoutMs: 100, teardownTimeoutMs: 100 };

function host(entries: ConstructorParameters<typeof PluginHost>[0]) {
  return new PluginHost(entries, { hooks: createHooks(), bridge, log, settings, events: new EventBus(), report: () => undefined });
}

/** Provides `test:tally`; records what it still held when it stopped, and who consumed it. */
function tallyProvider(record: { heldAtStop?: string[]; consumers: string[] }) {
  return definePlugin({
    name: 'tally',
    setup(ctx) {
      const items = new Set<string>();
      ctx.provide('test:tally', (consumer) => {
        record.consumers.push(consumer.plugin);
        return {
          items,
          add(item) {
            items.add(item);
            consumer.effect(() => void items.delete(item));
          },
        };
      });
      ctx.effect(() => void (record.heldAtStop = [...items]));
    },
  });
}

const user = (name: string, item: string) =>
  definePlugin({ name, inject: ['test:tally'], setup: (ctx) => ctx.inject('test:tally').add(item) });

describe('plugin services', () => {
  it('gives each consumer its own view, and undoes what a consumer registered before its provider stops', async () => {
    const record: { heldAtStop?: string[]; consumers: string[] } = { consumers: [] };
    const plugins = host([tallyProvider(record), user('a', 'from-a'), user('b', 'from-b')]);
    await plugins.setup();
    expect(record.consumers).toEqual(['a', 'b']);
    await plugins.teardown();
    expect(record.heldAtStop).toEqual([]);
  });

  it('fails the start before the setup of a plugin whose declared service nobody listed before it provides', async () => {
    let setups = 0;
    const lazy = definePlugin({ name: 'lazy', inject: ['test:tally'], setup: () => void (setups += 1) });
    const stopped: string[] = [];
    const first = definePlugin({ name: 'first', setup: (ctx) => ctx.effect(() => void stopped.push('first')) });
    const plugins = host([first, lazy, tallyProvider({ consumers: [] })]);
    const error = await plugins.setup().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(BridgeError);
    expect(error).toMatchObject({ code: 'BRIDGE_ERR_PLUGIN_SERVICE_MISSING', params: { plugin: 'lazy', service: 'test:tally' } });
    expect(setups).toBe(0);
    expect(stopped).toEqual(['first']);
    expect(plugins.list().find((p) => p.name === 'lazy')).toMatchObject({ state: 'failed', error: (error as Error).message });
  });

  it('refuses a second provider of a service, and a provide after start', async () => {
    const again = definePlugin({ name: 'again', setup: (ctx) => ctx.provide('test:tally', () => ({ items: new Set(), add: () => undefined })) });
    await expect(host([tallyProvider({ consumers: [] }), again]).setup()).rejects.toMatchObject({
      code: 'BRIDGE_ERR_PLUGIN_SERVICE_DUPLICATE',
      params: { plugin: 'again', service: 'test:tally', holder: 'tally' },
    });
    let kept: PluginContext | undefined;
    const plugins = host([definePlugin({ name: 'late', setup: (ctx) => void (kept = ctx) })]);
    await plugins.setup();
    expect(() => kept!.provide('test:tally', () => ({ items: new Set(), add: () => undefined }))).toThrow(/BRIDGE_ERR_REGISTER_AFTER_START|cannot register/);
    await plugins.teardown();
  });

  it('withdraws a service when its provider stops', async () => {
    let kept: PluginContext | undefined;
    const plugins = host([tallyProvider({ consumers: [] }), definePlugin({ name: 'keeper', setup: (ctx) => void (kept = ctx) })]);
    await plugins.setup();
    expect(kept!.inject('test:tally').items.size).toBe(0);
    await plugins.teardown();
    expect(() => kept!.inject('test:tally')).toThrow(/needs service test:tally/);
  });
});
