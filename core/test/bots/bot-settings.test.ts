import { describe, expect, it } from 'vitest';
import { definePlugin, z } from '@botbridge/sdk';
import { BotSettings } from '../../src/bots/bot-settings.js';
import { BridgeError } from '../../src/errors.js';

const greeter = definePlugin({
  name: 'greeter',
  config: z.object({ word: z.string().default('hi') }),
  botConfig: (botName, config) => z.strictObject({ greeting: z.string().default(`${config.word} from ${botName}`), loud: z.boolean().default(false) }),
  setup: () => undefined,
});
const counter = definePlugin({ name: 'counter', botConfig: z.strictObject({ max: z.number().int().positive().default(3) }), setup: () => undefined });
const plain = definePlugin({ name: 'plain', setup: () => undefined });

function settings(rooms: Record<string, { concurrency?: number; ordered?: boolean }> = {}) {
  const s = new BotSettings({ replyGapMs: 1_000, outboxTtlMs: 600_000, rooms });
  s.registerPlugin(greeter, { word: 'yo' });
  s.registerPlugin(counter, {});
  s.registerPlugin(plain, {});
  return s;
}

describe('per-bot settings', () => {
  it('serves defaults built per bot from the plugin config, and {} without a schema', () => {
    const s = settings({ 'A/1': { concurrency: 2 }, 'B/1': { ordered: false } });
    expect(s.pluginConfig('greeter', 'A')).toEqual({ greeting: 'yo from A', loud: false });
    expect(s.pluginConfig('plain', 'A')).toEqual({});
    expect(s.defaultDocument('A')).toEqual({
      core: { replyGapMs: 1_000, outboxTtlMs: 600_000, rooms: { '1': { concurrency: 2 } } },
      plugins: { greeter: { greeting: 'yo from A', loud: false }, counter: { max: 3 } },
    });
    expect(s.roomOverride('A', '1')).toEqual({ concurrency: 2 });
    expect(s.isOrdered('A\u00001')).toBe(true);
    expect(s.isOrdered('B\u00001')).toBe(false);
  });

  it('applies a valid document: missing sections and keys take their defaults, rooms replace pipeline.rooms', () => {
    const s = settings({ 'A/1': { concurrency: 2 } });
    const provider = s.claimSource('files');
    const result = provider.apply('A', { core: { replyGapMs: 10, rooms: { '2': { ordered: false } } }, plugins: { greeter: { loud: true } } });
    expect(result.ok).toBe(true);
    expect(s.pluginConfig('greeter', 'A')).toEqual({ greeting: 'yo from A', loud: true });
    expect(s.pluginConfig('counter', 'A')).toEqual({ max: 3 });
    expect(s.roomOverride('A', '1')).toBeUndefined();
    expect(s.isOrdered('A\u00002')).toBe(false);
    expect(s.replyGapMs('A\u00002')).toBe(10);
    expect(s.replyGapMs('B\u00002')).toBe(1_000);
    expect(provider.bots()).toEqual(['A']);
    provider.reset('A');
    expect(s.replyGapMs('A\u00002')).toBe(1_000);
    expect(s.roomOverride('A', '1')).toEqual({ concurrency: 2 });
  });

  it('refuses an invalid document whole, naming every issue by plugin and JSON path', () => {
    const s = settings();
    const provider = s.claimSource('files');
    provider.apply('A', { plugins: { counter: { max: 5 } } });
    const result = provider.apply('A', {
      extra: 1,
      core: { rooms: { '9': { concurrency: 0 } } },
      plugins: { counter: { max: 'many', min: 1 }, greeter: { loud: 'yes' }, gone: {} },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.plugin, i.path])).toEqual([
      [null, 'extra'],
      [null, 'core.rooms.9.concurrency'],
      ['greeter', 'plugins.greeter.loud'],
      ['counter', 'plugins.counter.max'],
      ['counter', 'plugins.counter'],
    ]);
    expect(result.warnings).toEqual([expect.objectContaining({ plugin: 'gone', path: 'plugins.gone' })]);
    expect(s.pluginConfig('counter', 'A')).toEqual({ max: 5 });
    expect(provider.validate('A', [1]).ok).toBe(false);
  });

  it('has one source per bridge', () => {
    const s = settings();
    s.claimSource('files');
    expect(() => s.claimSource('other')).toThrow(expect.objectContaining({ code: 'BRIDGE_ERR_BOT_CONFIG_SOURCE' }));
    s.releaseSource('files');
    expect(() => s.claimSource('other')).not.toThrow();
  });

  it('refuses a plugin whose per-bot schema has a key without a default', () => {
    const s = new BotSettings({ replyGapMs: 0, outboxTtlMs: 600_000, rooms: {} });
    const bad = definePlugin({ name: 'bad', botConfig: z.object({ token: z.string() }), setup: () => undefined });
    try {
      s.registerPlugin(bad, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BridgeError);
      expect((error as BridgeError).code).toBe('BRIDGE_ERR_PLUGIN_BOT_CONFIG');
      expect((error as BridgeError).message).toContain('token');
    }
  });
});
