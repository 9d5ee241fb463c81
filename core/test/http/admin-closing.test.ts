import { describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { BEARER, eventually, useAdmin } from './admin-harness.js';
import { DebugWs } from './ws-client.js';

const { start, defer } = useAdmin();

/** A reply that waits for the test: the bridge stays in its drain until `release()`. */
function gatedEcho() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started = false;
  const plugin = definePlugin({
    name: 'gated',
    setup(ctx) {
      ctx.onMessage(async ({ message }) => {
        started = true;
        await gate;
        return `늦은 답: ${message.text}`;
      });
    },
  });
  return { plugin, release, started: () => started };
}

describe('admin HTTP server while the bridge closes', () => {
  it('answers 503 with a JSON body and Retry-After, keeps the probes and /metrics, and tells debug clients', async () => {
    const gated = gatedEcho();
    const fixture = await start({ plugins: [gated.plugin], listen: true, config: { shutdown: { graceMs: 10_000, flushMs: 1_000 } } });
    const { admin, t } = fixture;
    const debug = await DebugWs.open(`${fixture.address!.url.replace('http', 'ws')}/api/debug`, BEARER);
    defer(() => debug.close());
    await debug.next((m) => m.type === 'hello');
    const phone = await fixture.client();
    phone.analyze('진행 중');
    await eventually('the reply is being produced', gated.started);

    const closed = t.bridge.close();
    let closeDone = false;
    void closed.then(() => (closeDone = true));
    expect(await debug.next((m) => m.type === 'closing')).toEqual({ type: 'closing', graceMs: 10_000, flushMs: 1_000 });

    const api = await admin.app.inject({ url: '/api/clients', headers: BEARER });
    expect(api.statusCode).toBe(503);
    expect(api.headers['retry-after']).toBe('12');
    expect(api.json()).toEqual({ error: 'BRIDGE_ERR_SHUTTING_DOWN', message: 'the bridge is shutting down; retry in 12 s' });
    // Before authentication: a closing server is no secret, and nobody retries a token against it.
    expect((await admin.app.inject({ method: 'POST', url: '/api/inject', payload: {} })).statusCode).toBe(503);
    const ready = await admin.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ ready: false, listener: 'closing' });
    const health = await admin.app.inject({ url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'closing' });
    expect((await admin.app.inject({ url: '/metrics', headers: BEARER })).statusCode).toBe(200);
    // A new debug client is refused the same way, over a real socket (the server still listens).
    await expect(DebugWs.open(`${fixture.address!.url.replace('http', 'ws')}/api/debug`, BEARER)).rejects.toMatchObject({ status: 503 });
    expect(closeDone).toBe(false);

    // The drain: the phone is still connected and gets its reply, then the bridge closes.
    gated.release();
    expect((await phone.nextReply(5_000)).text).toBe('늦은 답: 진행 중');
    await closed;
  });
});
