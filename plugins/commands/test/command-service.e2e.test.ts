import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, text, usePlugin, type Disposer } from '@botbridge/sdk';
import { createTestBridge, type TestBridge } from '@botbridge/testing';
import { ADMIN_ONLY_TEXT, commands, defineCommand, type CommandService } from '../src/index.js';

const BOT = 'LOA.i';
const ADMIN = 'admin-hash';
const OTHER = 'someone-else';

/** What the third-party plugin below exposes to the test: its service view and its disposers. */
interface Greeter {
  service?: CommandService;
  forgetHello?: Disposer;
}

/** A third plugin: two commands through the service, one of them admin-only. Imports only the public entry. */
function greeterPlugin(seen: Greeter) {
  return definePlugin({
    name: 'greeter',
    inject: ['commands'],
    setup(ctx) {
      const service = ctx.inject('commands');
      seen.service = service;
      seen.forgetHello = service.register(
        defineCommand({
          name: 'hello',
          trigger: '인사',
          description: '인사하기',
          promptRequired: true,
          parameters: [{ name: 'times', type: 'int', optional: true, default: 1, min: 1, max: 3, description: '횟수' }],
          run: ({ prompt, params }) => text(`안녕하세요, ${prompt}님${'!'.repeat(Number(params['times']))}`),
        }),
      );
      service.register(defineCommand({ name: 'secret', trigger: 'secret', description: '관리자 전용', adminOnly: true, run: () => text('비밀입니다') }));
    },
  });
}

/** Listed last: answers whatever no command took, so a removed command is seen passing on. */
const fallback = definePlugin({ name: 'fallback', setup: (ctx) => ctx.onMessage((m) => `그 외: ${m.message.text}`) });

let t: TestBridge | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(seen: Greeter) {
  t = await createTestBridge({
    // The admins are configured once, in the commands plugin; the greeter has no admin config at all.
    plugins: [usePlugin(commands, { admins: { [BOT]: [{ userHash: ADMIN }] } }), greeterPlugin(seen), fallback],
  });
  return { t, phone: await t.client({ botName: BOT }) };
}

describe('the commands service', () => {
  it('answers a command another plugin registered, with the shared parameter parser and --channel-id', async () => {
    const { phone } = await start({});
    await phone.shouldReply('# 인사 철수', '안녕하세요, 철수님!');
    await phone.shouldReply('# 인사 영희 --times=9', '안녕하세요, 영희님!!!');
    await phone.shouldReply('# 인사', '사용법: # 인사 {내용}');
    await phone.shouldReply('# 인사 민수 --times=abc', /^❌ 파라미터 오류: /);
    await phone.shouldNotReply({ text: '# 인사 민수 --channel-id=999', channelId: '111' });
    // The built-ins are still there, ahead of the plugin's commands; other lines pass on.
    await phone.shouldReply('# echo 안녕', '에코: 안녕');
    await phone.shouldReply('# 인사하기', '그 외: # 인사하기');
  });

  it('refuses an admin-only command to a non-admin and runs it for the bot admin configured once in the commands plugin', async () => {
    const { t, phone } = await start({});
    await phone.shouldReply({ text: '# secret', userHash: OTHER }, ADMIN_ONLY_TEXT);
    await phone.shouldReply({ text: '# secret', userHash: ADMIN }, '비밀입니다');
    // The same list guards the built-ins.
    await phone.shouldReply({ text: '# client_info', userHash: OTHER }, ADMIN_ONLY_TEXT);
    await phone.shouldReply({ text: '# client_info', userHash: ADMIN }, /^📊 클라이언트 상태 요약/);
    // A bot's own settings replace its list, for every command at once.
    const applied = t.setBotConfig(BOT, { plugins: { commands: { admins: [{ userHash: OTHER, channelId: '*' }] } } });
    expect(applied.ok).toBe(true);
    await phone.shouldReply({ text: '# secret', userHash: OTHER }, '비밀입니다');
    await phone.shouldReply({ text: '# secret', userHash: ADMIN }, ADMIN_ONLY_TEXT);
  });

  it('removes a command by its disposer, and every command of a plugin when that plugin stops', async () => {
    const seen: Greeter = {};
    const { t, phone } = await start(seen);
    await phone.shouldReply('# 인사 철수', '안녕하세요, 철수님!');
    await seen.forgetHello!();
    await seen.forgetHello!();
    await phone.shouldReply('# 인사 철수', '그 외: # 인사 철수');
    await phone.shouldReply({ text: '# secret', userHash: ADMIN }, '비밀입니다');

    const names = () => seen.service!.list().map((command) => command.name);
    expect(names()).toEqual(['echo', 'client_info', 'imgext', 'reload_bots_config', 'secret']);
    await t.close();
    // The greeter stopped before the commands plugin: its command went with it, the built-ins stayed.
    expect(names()).toEqual(['echo', 'client_info', 'imgext', 'reload_bots_config']);
    // A registration through the view of a stopped plugin is undone at once, never left behind.
    seen.service!.register(defineCommand({ name: 'late', trigger: 'late', description: '', run: () => text('늦음') }));
    await expect.poll(names).toEqual(['echo', 'client_info', 'imgext', 'reload_bots_config']);
  });
});

describe('a missing service', () => {
  it('fails the start with BRIDGE_ERR_PLUGIN_SERVICE_MISSING when no plugin provides it, or only one listed later', async () => {
    const missing = { code: 'BRIDGE_ERR_PLUGIN_SERVICE_MISSING', message: 'plugin greeter: needs service commands, which no plugin listed before it provides' };
    await expect(createTestBridge({ plugins: [greeterPlugin({})] })).rejects.toMatchObject(missing);
    await expect(createTestBridge({ plugins: [greeterPlugin({}), commands] })).rejects.toMatchObject(missing);
  });

  it('fails the start with the same code when a setup injects a service it did not declare', async () => {
    const undeclared = definePlugin({ name: 'undeclared', setup: (ctx) => void ctx.inject('commands') });
    await expect(createTestBridge({ plugins: [undeclared] })).rejects.toMatchObject({
      code: 'BRIDGE_ERR_PLUGIN_SERVICE_MISSING',
      params: { plugin: 'undeclared', service: 'commands' },
    });
  });
});
