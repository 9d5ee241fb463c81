import { describe, expect, it } from 'vitest';
import { createTestBridge } from '@botbridge/testing';
import { isBridgeError } from '../../src/errors.js';
import { createAdminServer, isLoopback, type RouteEntry } from '../../src/http/index.js';
import { BEARER, TOKEN, useAdmin } from './admin-harness.js';

const { start, defer } = useAdmin();

/** A request for a route of the table, with concrete params and a valid body. */
function requestFor(route: RouteEntry): { method: string; url: string; payload?: object } {
  const url = route.url
    .replace(':bot', 'LOA.i')
    .replace(':device', 'a1b2c3d4e5f60718')
    .replace(':room', '18445682959392711')
    .replace(':action', 'approve')
    .replace(':file', 'app.js');
  const payload = route.method === 'POST' ? {} : undefined;
  return { method: route.method, url, payload };
}

describe('admin authentication', () => {
  it('every route but /health and /ready answers 401 without a valid token (walked from the route table)', async () => {
    const { admin } = await start({ http: { authFailureLimit: 10_000 } });
    const publicRoutes = admin.routes.filter((r) => r.auth === 'public').map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes.sort()).toEqual(['GET /health', 'GET /ready', 'HEAD /health', 'HEAD /ready']);
    const guarded = admin.routes.filter((r) => r.auth !== 'public');
    // The table is complete enough to mean something: API, metrics, debug channel, dashboard.
    expect(guarded.map((r) => r.url)).toEqual(expect.arrayContaining(['/api/clients', '/metrics', '/api/debug', '/', '/login', '/api/devices/:bot/:device/:action']));
    for (const route of guarded) {
      const base = requestFor(route);
      for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: `Basic ${TOKEN}` }, { cookie: 'botbridge_session=forged' }]) {
        const res = await admin.app.inject({ ...base, headers } as never);
        // GET / without a credential (or with a stale cookie) is the login page, answered 200;
        // it holds nothing but the sign-in form.
        const loginPage = route.url === '/' && route.method !== 'POST' && !('authorization' in headers);
        expect(res.statusCode, `${route.method} ${route.url} with ${JSON.stringify(headers)}`).toBe(loginPage ? 200 : 401);
        if (loginPage && route.method === 'GET') expect(res.body).toContain('name="token"');
        if (loginPage) expect(res.body).not.toContain('/dashboard/app.js');
      }
    }
    // Unknown paths are not revealed either.
    expect((await admin.app.inject({ url: '/api/nope' })).statusCode).toBe(401);
    expect((await admin.app.inject({ url: '/api/nope', headers: BEARER })).statusCode).toBe(404);
  });

  it('the same routes pass with the bearer token', async () => {
    const { admin } = await start();
    for (const url of ['/api/clients', '/api/devices', '/api/rooms', '/api/stats', '/api/plugins', '/metrics', '/', '/dashboard/app.js', '/dashboard/style.css']) {
      const res = await admin.app.inject({ url, headers: BEARER });
      expect(res.statusCode, url).toBe(200);
    }
    expect((await admin.app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' });
    expect((await admin.app.inject({ url: '/ready' })).json()).toEqual({ ready: true, store: 'ok', listener: 'up' });
  });

  it('throttles an address after repeated failures, even for the right token, and says when to retry', async () => {
    const { admin, t } = await start({ http: { authFailureLimit: 3, authFailureWindowMs: 60_000 } });
    // Visiting without any credential is not a guess: it never spends the budget.
    for (let i = 0; i < 5; i += 1) expect((await admin.app.inject({ url: '/api/clients' })).statusCode).toBe(401);
    for (let i = 0; i < 3; i += 1) {
      expect((await admin.app.inject({ url: '/api/clients', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
    }
    const blocked = await admin.app.inject({ url: '/api/clients', headers: BEARER });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ error: 'BRIDGE_ERR_HTTP_RATE_LIMITED' });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected; health probes never are.
    expect((await admin.app.inject({ url: '/api/clients', headers: BEARER, remoteAddress: '127.0.0.2' })).statusCode).toBe(200);
    expect((await admin.app.inject({ url: '/health' })).statusCode).toBe(200);
    expect(t.bridge.admin.counters.get('http_auth_failures', 'wrong-token')).toBe(3);
  });

  it('refuses foreign origins (cross-site requests and WebSocket hijacking)', async () => {
    const { admin } = await start({ http: { allowedOrigins: ['https://ops.example'] } });
    const foreign = await admin.app.inject({ url: '/api/clients', headers: { ...BEARER, origin: 'https://evil.example', host: '127.0.0.1:8080' } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({ error: 'BRIDGE_ERR_HTTP_ORIGIN' });
    const same = await admin.app.inject({ url: '/api/clients', headers: { ...BEARER, origin: 'http://127.0.0.1:8080', host: '127.0.0.1:8080' } });
    expect(same.statusCode).toBe(200);
    const listed = await admin.app.inject({ url: '/api/clients', headers: { ...BEARER, origin: 'https://ops.example', host: '127.0.0.1:8080' } });
    expect(listed.statusCode).toBe(200);
    expect((await admin.app.inject({ url: '/api/clients', headers: { ...BEARER, origin: 'null', host: '127.0.0.1:8080' } })).statusCode).toBe(403);
  });

  it('signs the dashboard in with a session cookie that never contains the token', async () => {
    const { admin } = await start();
    // Issue 15: a first visit is no error (a 401 document is a console error in browsers).
    const page = await admin.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['www-authenticate']).toBeUndefined();
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('name="token"');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'sha256-/);

    const wrong = await admin.app.inject({ method: 'POST', url: '/login', payload: 'token=nope', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('Wrong token');
    expect(wrong.headers['set-cookie']).toBeUndefined();

    const login = await admin.app.inject({ method: 'POST', url: '/login', payload: `token=${TOKEN}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^botbridge_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;

    const dashboard = await admin.app.inject({ url: '/', headers: { cookie } });
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain('/dashboard/app.js');
    expect(dashboard.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await admin.app.inject({ url: '/api/clients', headers: { cookie } })).statusCode).toBe(200);

    // A cookie alone never authorises a state change: the browser's (checked) Origin must come with it.
    const host = 'localhost:80';
    const noOrigin = await admin.app.inject({ method: 'POST', url: '/api/approvals/reload', headers: { cookie, host } });
    expect(noOrigin.statusCode).toBe(401);
    const sameOrigin = await admin.app.inject({ method: 'POST', url: '/api/approvals/reload', headers: { cookie, host, origin: `http://${host}` } });
    expect(sameOrigin.statusCode).toBe(200);

    const logout = await admin.app.inject({ method: 'POST', url: '/logout', headers: { cookie, host, origin: `http://${host}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(logout.statusCode).toBe(303);
    expect(String(logout.headers['set-cookie'])).toContain('Max-Age=0');
  });

  it('a session cookie dies with the process that issued it', async () => {
    const first = await start();
    const login = await first.admin.app.inject({ method: 'POST', url: '/login', payload: { token: TOKEN } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const second = await start();
    expect((await second.admin.app.inject({ url: '/api/clients', headers: { cookie } })).statusCode).toBe(401);
  });

  it('generates a token on loopback when none is configured, and refuses any other address without one', async () => {
    const t = await createTestBridge();
    defer(() => t.close());
    const admin = await createAdminServer({ bridge: t.bridge, http: { port: 0, adminToken: undefined } });
    defer(() => admin.close());
    expect(admin.tokenSource).toBe('generated');
    const address = await admin.listen();
    const token = decodeURIComponent(/#token=(.+)$/.exec(address.dashboardUrl)![1]!);
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect((await admin.app.inject({ url: '/api/clients', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    expect((await admin.app.inject({ url: '/api/clients' })).statusCode).toBe(401);

    for (const host of ['0.0.0.0', '::', '192.168.0.10']) {
      const error = await createAdminServer({ bridge: t.bridge, http: { host, port: 0, adminToken: undefined } }).catch((e: unknown) => e);
      expect(isBridgeError(error, 'BRIDGE_ERR_HTTP_NO_TOKEN'), host).toBe(true);
    }
    // (metrics off: the first server already serves this bridge's metrics)
    const withToken = await createAdminServer({ bridge: t.bridge, http: { host: '0.0.0.0', port: 0, adminToken: TOKEN, metrics: false } });
    defer(() => withToken.close());
    expect(withToken.tokenSource).toBe('config');
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '::ffff:10.0.0.1', '128.0.0.1']) expect(isLoopback(host), host).toBe(false);
  });

  it('validates every request against its schema and limits body size', async () => {
    const { admin } = await start({ http: { bodyLimitBytes: 1_024 } });
    const unknownField = await admin.app.inject({ method: 'POST', url: '/api/send', headers: BEARER, payload: { botName: 'b', room: 'r', text: 'x', extra: 1 } });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json()).toMatchObject({ error: 'BRIDGE_ERR_HTTP_BAD_REQUEST' });
    const badAction = await admin.app.inject({ method: 'POST', url: '/api/devices/LOA.i/d1/destroy', headers: BEARER });
    expect(badAction.statusCode).toBe(400);
    const badQuery = await admin.app.inject({ url: '/api/devices?status=maybe', headers: BEARER });
    expect(badQuery.statusCode).toBe(400);
    const badChannel = await admin.app.inject({ method: 'POST', url: '/api/inject', headers: BEARER, payload: { botName: 'b', deviceId: 'd', room: 'r', channelId: '12ab', text: 'x' } });
    expect(badChannel.statusCode).toBe(400);
    const tooLarge = await admin.app.inject({ method: 'POST', url: '/api/send', headers: BEARER, payload: { botName: 'b', room: 'r', text: 'x'.repeat(2_000) } });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toMatchObject({ error: 'BRIDGE_ERR_HTTP_BAD_REQUEST' });
  });
});
