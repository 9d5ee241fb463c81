import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';
import { startExample, type RunningServer } from './example-process.js';

/**
 * Every example runs as a real process, the way its `npm start` runs it (with a free port, a
 * temp SQLite file and auto-approval so a fake phone is answered at once), answers a fake
 * bridge script, and exits 0 on SIGTERM.
 */

const root = new URL('../../', import.meta.url).pathname;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function run(example: string, env: (dir: string) => Record<string, string> = () => ({})) {
  const dir = await mkdtemp(join(tmpdir(), `botbridge-${example}-`));
  const server = await startExample(`examples/${example}`, ['--port', '0', '--no-http', '--store', `sqlite:${join(dir, 'bridge.db')}`, '--auto-approve'], env(dir));
  cleanup.push(async () => {
    server.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const phone = await FakeBridgeClient.connect({ port: server.port });
  cleanup.push(() => phone.close());
  await phone.handshake;
  return { dir, server, phone };
}

async function stop(server: RunningServer): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exit).toBe(0);
  expect(server.logs.some((entry) => entry.msg === 'botbridge closed')).toBe(true);
}

describe('examples (real processes)', () => {
  it.each([
    ['domaeka', '# echo 안녕', '에코: 안녕'],
    ['kkobot', '# echo 안녕', '에코: 안녕'],
    ['hello-plugin', 'hi', '홍길동님 안녕하세요!'],
  ])('%s starts with npm start, answers a phone and exits 0 on SIGTERM', async (example, line, answer) => {
    const pkg = JSON.parse(readFileSync(join(root, 'examples', example, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // exec: npm's SIGTERM reaches the server (no shell in between), and npm exits with its code.
    expect(pkg.scripts.start).toBe('exec botbridge start --config bridge.config.ts');
    expect(existsSync(join(root, 'examples', example, 'README.md'))).toBe(true);
    const { server, phone } = await run(example, (dir) => ({ BOTBRIDGE_BOT_CONFIG_DIR: join(dir, 'bots') }));
    await phone.shouldReply({ text: line, sender: '홍길동' }, answer);
    await stop(server);
  });

  it('kkobot: a new bot gets its config file; edits change behaviour live; a broken edit is refused with a clear log', async () => {
    const { dir, server, phone } = await run('kkobot', (d) => ({ BOTBRIDGE_BOT_CONFIG_DIR: join(d, 'bots') }));
    const file = join(dir, 'bots', 'LOA.i.json');
    await server.waitForLog((entry) => entry.msg === 'bot config file created with the defaults' && entry.botName === 'LOA.i');
    const doc = JSON.parse(await readFile(file, 'utf8')) as { core: unknown; plugins: Record<string, Record<string, unknown>> };
    expect(doc.core).toEqual({ replyGapMs: 1000, rooms: {}, outboxTtlMs: 600_000 });
    expect(doc.plugins.commands).toEqual({ enabled: ['echo', 'client_info', 'imgext', 'reload_bots_config'], admins: [] });
    expect(doc.plugins.profiler).toEqual({ slowMessageMs: 3000 });
    await phone.shouldReply('# echo 하나', '에코: 하나');
    await phone.shouldReply({ text: '# profile', userHash: 'boss' }, '[ERROR] 관리자 전용 명령입니다.');

    // A file of an earlier version with the profiler's own admin list still loads; the list grants nothing.
    let from = server.logs.length;
    await writeFile(file, JSON.stringify({ ...doc, plugins: { ...doc.plugins, profiler: { slowMessageMs: 3000, admins: [{ userHash: 'boss', channelId: '*' }] } } }, null, 2));
    await server.waitForLog((entry) => entry.msg === 'bot config applied', { from });
    await phone.shouldReply({ text: '# profile', userHash: 'boss' }, '[ERROR] 관리자 전용 명령입니다.');

    // Edit: echo off for this bot, and an admin of the bot (the commands plugin's list, for `# profile` too).
    doc.plugins.commands!.enabled = ['client_info', 'imgext', 'reload_bots_config'];
    doc.plugins.commands!.admins = [{ userHash: 'boss', channelId: '*' }];
    from = server.logs.length;
    await writeFile(file, JSON.stringify(doc, null, 2));
    await server.waitForLog((entry) => entry.msg === 'bot config applied', { from });
    await phone.shouldNotReply('# echo 둘');
    await phone.shouldReply({ text: '# profile', userHash: 'boss' }, /^📈 처리 시간 프로파일 \(LOA\.i, 최근 \d+개 메시지\)/);

    // A broken edit: refused whole, every issue logged with its path, nothing changes.
    from = server.logs.length;
    await writeFile(file, JSON.stringify({ ...doc, plugins: { ...doc.plugins, commands: { enabled: ['echo', 'nope'], admins: [] } } }, null, 2));
    await server.waitForLog((entry) => entry.msg === 'bot config edit refused; the previous settings stay in effect', { from });
    const issue = server.logs.slice(from).find((entry) => entry.path === 'plugins.commands.enabled[1]')!;
    expect(issue).toMatchObject({ level: 50, category: 'plugin:auto-config', botName: 'LOA.i', plugin: 'auto-config', section: 'commands', file });
    expect(issue.msg).toMatch(/^invalid bot config at plugins\.commands\.enabled\[1\] \(plugin commands\): /);
    await phone.shouldNotReply('# echo 셋');
    await phone.shouldReply({ text: '# profile', userHash: 'boss' }, /^📈/);
    await stop(server);
  });
});
