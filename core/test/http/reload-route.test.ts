import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, usePlugin, z, type BridgeConfig, type PluginEntry } from '@botbridge/sdk';
import { FakeBridgeClient } from '@botbridge/testing';
import { createBridge, type Bridge } from '../../src/bridge.js';
import { createAdminServer, type AdminServer } from '../../src/http/index.js';
import { BEARER, TOKEN } from './admin-harness.js';

/** POST /api/reload: behind the admin token; 200 accepted, 422 refused (old set serves), 409 unavailable. */

const tag = (name: string) =>
  definePlugin({
    name: 'tag',
    version: name,
    config: z.strictObject({ text: z.string().min(1).default(name) }),
    setup(ctx, config) {
      ctx.onMessage(() => config.text);
    },
  });

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(withSource: boolean): Promise<{ bridge: Bridge; admin: AdminServer; next: { plugins: readonly PluginEntry[] }; phone: FakeBridgeClient }> {
  const dir = await mkdtemp(join(tmpdir(), 'botbridge-reload-route-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const base: BridgeConfig = { listen: { host: '127.0.0.1', port: 0 }, store: { url: `sqlite:${join(dir, 'b.db')}` }, log: { level: 'silent' }, approval: { autoApprove: true } };
  const next: { plugins: readonly PluginEntry[] } = { plugins: [tag('one')] };
  const bridge = createBridge({ config: { ...base, plugins: [tag('one')] }, ...(withSource ? { configSource: async () => ({ ...base, plugins: next.plugins }) } : {}) });
  await bridge.start();
  cleanups.push(() => bridge.close());
  const admin = await createAdminServer({ bridge, http: { adminToken: TOKEN, port: 0 } });
  cleanups.push(() => admin.close());
  const phone = await FakeBridgeClient.connect({ port: bridge.address!.port });
  cleanups.push(() => phone.close());
  await phone.handshake;
  return { bridge, admin, next, phone };
}

describe('POST /api/reload', () => {
  it('needs the admin token, reloads, and refuses a broken plugin config with the old set serving', async () => {
    const { admin, next, phone } = await start(true);
    const anonymous = await admin.app.inject({ method: 'POST', url: '/api/reload' });
    expect(anonymous.statusCode).toBe(401);
    const wrong = await admin.app.inject({ method: 'POST', url: '/api/reload', headers: { authorization: 'Bearer not-the-token-0123456789abcdef' } });
    expect(wrong.statusCode).toBe(401);
    await phone.shouldReply('a', 'one');

    next.plugins = [tag('two')];
    const accepted = await admin.app.inject({ method: 'POST', url: '/api/reload', headers: BEARER });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ ok: true, generation: 2, plugins: ['tag'], restartRequired: [], error: null });
    await phone.shouldReply('b', 'two');

    next.plugins = [usePlugin(tag('three'), { text: '' })];
    const refused = await admin.app.inject({ method: 'POST', url: '/api/reload', headers: BEARER });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ ok: false, generation: 2, error: { code: 'BRIDGE_ERR_PLUGIN_CONFIG' } });
    expect(refused.json().error.message).toContain('plugin tag');
    await phone.shouldReply('c', 'two');
    const plugins = (await admin.app.inject({ url: '/api/plugins', headers: BEARER })).json();
    expect(plugins).toMatchObject([{ name: 'tag', version: 'two', state: 'running', error: null, generation: 2 }]);
  });

  it('answers 409 for a bridge not started from a config file', async () => {
    const { admin, phone } = await start(false);
    const res = await admin.app.inject({ method: 'POST', url: '/api/reload', headers: BEARER });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ ok: false, generation: 1, error: { code: 'BRIDGE_ERR_RELOAD_UNAVAILABLE' } });
    await phone.shouldReply('still', 'one');
  });
});
