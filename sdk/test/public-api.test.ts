import { describe, expect, it } from 'vitest';
import * as sdk from '@botbridge/sdk';

/**
 * The sdk's export list is the public API plugin authors build on. A change here is a
 * deliberate API change: update the list, the docs, and think about the plugins out there.
 */
describe('sdk public API', () => {
  it('exports exactly these runtime values', () => {
    expect(Object.keys(sdk).sort()).toEqual([
      'BRIDGE_EVENT_CHANNEL_PREFIX',
      'BRIDGE_HOOKS',
      'CORE_EVENTS',
      'CORE_EVENT_NAMES',
      'defineConfig',
      'definePlugin',
      'mediaBase64',
      'mediaUrl',
      'noReply',
      'text',
      'texts',
      'usePlugin',
      'z',
    ]);
  });

  it('keeps the core-only values on the internal subpath, not on the public surface', async () => {
    const internal = await import('@botbridge/sdk/internal');
    expect(Object.keys(internal).sort()).toEqual([
      'BRIDGE_EVENT_CHANNEL_PREFIX',
      'CORE_EVENT_NAMES',
      'DEFAULT_SALT',
      'DEFAULT_SECRET_KEY',
      'LOG_CATEGORIES',
      'MIN_SECRET_BYTES',
      'bridgeConfigSchema',
      'signingSecretSchema',
      'toReplies',
    ]);
    expect(internal.toReplies('hi')).toEqual([{ kind: 'text', text: 'hi' }]);
  });

  it('reply helpers build the reply shapes the core renders', () => {
    expect(sdk.text('안녕')).toEqual({ kind: 'text', text: '안녕' });
    expect(sdk.texts(['a', 'b'])).toEqual([{ kind: 'text', text: 'a' }, { kind: 'text', text: 'b' }]);
    expect(sdk.mediaUrl('https://e.x/a.png', { waitMs: 3000 })).toEqual({ kind: 'media', form: 'url', items: ['https://e.x/a.png'], waitMs: 3000 });
    expect(sdk.mediaBase64(['AAAA', 'BBBB'])).toEqual({ kind: 'media', form: 'base64', items: ['AAAA', 'BBBB'] });
    expect(sdk.noReply()).toEqual({ kind: 'none' });
  });

  it('definePlugin and usePlugin keep the definition and the config as given', () => {
    const plugin = sdk.definePlugin({ name: 'p', config: sdk.z.object({ n: sdk.z.number().default(1) }), setup: () => undefined });
    expect(sdk.usePlugin(plugin, { n: 2 })).toEqual({ plugin, config: { n: 2 } });
    expect(sdk.defineConfig({ plugins: [plugin] }).plugins).toEqual([plugin]);
  });
});
