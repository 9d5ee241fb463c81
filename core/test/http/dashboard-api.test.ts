import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { createBridge } from '../../src/bridge.js';
import { createAdminServer } from '../../src/http/index.js';
import { LogTail } from '../../src/log-tail.js';
import { BEARER, TOKEN, eventually, useAdmin } from './admin-harness.js';

/** Issue 15: what the dashboard's plugins panel and log tail read (GET /api/plugins, GET /api/logs). */

const { start, defer } = useAdmin();

const echo = definePlugin({
  name: 'echo',
  version: '1.0.0',
  setup(ctx) {
    ctx.onMessage(({ message }) => (message.text.startsWith('# echo ') ? `에코: ${message.text.slice(7)}` : undefined));
  },
});

/** Answers `# two` with two replies, one through ctx.reply; throws on `# boom`. */
const flaky = definePlugin({
  name: 'flaky',
  setup(ctx) {
    ctx.onMessage(async ({ message, reply }) => {
      if (message.text === '# boom') throw new Error('kaboom');
      if (message.text !== '# two') return undefined;
      await reply('첫째');
      return '둘째';
    });
  },
});

describe('GET /api/plugins', () => {
  it('counts messages, replies and errors per plugin and keeps the last error', async () => {
    const { admin, client } = await start({ plugins: [flaky, echo] });
    const phone = await client();
    await phone.shouldReply('# echo 안녕', '에코: 안녕');
    phone.analyze({ text: '# two' });
    await phone.waitForReplies(2);
    phone.analyze({ text: '# boom' });
    await eventually('the failure counted', async () => (await admin.app.inject({ url: '/api/plugins', headers: BEARER })).json()[0].errors === 1);
    const [flakyState, echoState] = (await admin.app.inject({ url: '/api/plugins', headers: BEARER })).json();
    // flaky ran first for all three messages: two ended normally, one threw.
    expect(flakyState).toMatchObject({ name: 'flaky', state: 'running', error: null, messages: 2, replies: 2, errors: 1 });
    expect(flakyState.lastError).toMatchObject({ hook: 'onMessage', code: 'BRIDGE_ERR_PLUGIN_HOOK' });
    expect(flakyState.lastError.message).toContain('kaboom');
    expect(flakyState.lastError.at).toBeGreaterThan(Date.now() - 60_000);
    // echo saw the two messages flaky did not answer (the first, and the one flaky threw on).
    expect(echoState).toMatchObject({ name: 'echo', version: '1.0.0', state: 'running', messages: 2, replies: 1, errors: 0, lastError: null });
    expect((await admin.app.inject({ url: '/api/plugins' })).statusCode).toBe(401);
  });
});

describe('GET /api/logs', () => {
  it('serves recent warn lines, redacted, after a cursor, at a chosen level', async () => {
    const { admin, t } = await start({ captureLogs: true });
    const log = t.bridge.log;
    // The start-up warnings (auto-approve, the public secret key) are in the tail already.
    const startup = (await admin.app.inject({ url: '/api/logs', headers: BEARER })).json() as { seq: number; msg: string }[];
    expect(startup.map((l) => l.msg).join('\n')).toContain('AUTO-APPROVE IS ON');
    const mark = startup.at(-1)!.seq;
    log.info({ category: 'test' }, 'an info line');
    log.warn({ token: 'field-secret-0123456789', nested: { password: 'hunter2-hunter2' }, url: 'http://x/?token=query-secret-0123' }, 'a warning with secrets');
    log.error(`the admin token ${TOKEN} in a message text`);

    const res = await admin.app.inject({ url: `/api/logs?after=${mark}`, headers: BEARER });
    expect(res.statusCode).toBe(200);
    const body = res.body;
    for (const secret of ['field-secret-0123456789', 'hunter2-hunter2', 'query-secret-0123', TOKEN]) expect(body).not.toContain(secret);
    const lines = res.json() as { seq: number; level: string; msg: string; fields: Record<string, unknown> }[];
    // warn and above by default: the info line is left out.
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'a warning with secrets'],
      ['error', 'the admin token [redacted] in a message text'],
    ]);
    expect(lines[0]!.fields).toMatchObject({ token: '[redacted]', nested: { password: '[redacted]' }, url: 'http://x/?token=[redacted]' });

    const all = (await admin.app.inject({ url: `/api/logs?level=info&after=${mark}`, headers: BEARER })).json() as { msg: string }[];
    expect(all.map((l) => l.msg)).toContain('an info line');
    const after = (await admin.app.inject({ url: `/api/logs?after=${lines[0]!.seq}`, headers: BEARER })).json() as { msg: string }[];
    expect(after.map((l) => l.msg)).toEqual(['the admin token [redacted] in a message text']);
    expect((await admin.app.inject({ url: '/api/logs?level=loud', headers: BEARER })).statusCode).toBe(400);
    expect((await admin.app.inject({ url: '/api/logs' })).statusCode).toBe(401);
  });
});

describe('GET /api/logs without a tail', () => {
  it('is a 404 naming why when the bridge logs through a pino of its own', async () => {
    const bridge = createBridge({ config: { log: { level: 'silent' } }, logger: pino({ level: 'silent' }) });
    const admin = await createAdminServer({ bridge, http: { adminToken: TOKEN, port: 0 } });
    defer(() => admin.close());
    const res = await admin.app.inject({ url: '/api/logs', headers: BEARER });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toContain('createLogger');
  });
});

describe('the chart library', () => {
  it('is served from node_modules behind the token', async () => {
    const { admin } = await start();
    const script = await admin.app.inject({ url: '/dashboard/vendor/uplot.js', headers: BEARER });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('text/javascript');
    expect(script.body).toContain('export { uPlot as default }');
    expect((await admin.app.inject({ url: '/dashboard/vendor/uplot.css', headers: BEARER })).headers['content-type']).toContain('text/css');
    expect((await admin.app.inject({ url: '/dashboard/vendor/uplot.js' })).statusCode).toBe(401);
    expect((await admin.app.inject({ url: '/dashboard/vendor/other.js', headers: BEARER })).statusCode).toBe(404);
  });
});

describe('LogTail', () => {
  it('keeps warnings apart from a burst of info lines, bounded', () => {
    const tail = new LogTail({ capacity: 10, importantCapacity: 3 });
    const line = (level: number, msg: string) => `${JSON.stringify({ level, time: 1, msg })}\n`;
    for (let i = 0; i < 5; i += 1) tail.write(line(40, `warn ${i}`));
    for (let i = 0; i < 50; i += 1) tail.write(line(30, `info ${i}`));
    tail.write(line(20, 'debug is not kept'));
    expect(tail.read().map((l) => l.msg)).toEqual(['warn 2', 'warn 3', 'warn 4']);
    expect(tail.read({ level: 'info' }).map((l) => l.msg)).toEqual(Array.from({ length: 10 }, (_, i) => `info ${40 + i}`));
    expect(tail.read({ level: 'debug', limit: 2 }).map((l) => l.msg)).toEqual(['info 48', 'info 49']);
  });
});
