import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, usePlugin, z, type BotConfigDocument } from '@botbridge/sdk';
import { createTestBridge, type FakeBridgeClient, type LogLine, type TestBridge } from '@botbridge/testing';
import { commands } from '@botbridge/plugin-commands';
import { autoConfig } from '../src/index.js';

const BOT = 'LOA.i';
const CHANNEL = '18445682959392711'; // the fake client's default room
const ADMIN = 'admin-hash';

/** Answers `slow …` after 300 ms and anything else at once, to show reply ordering. */
const pace = definePlugin({
  name: 'pace',
  botConfig: z.strictObject({ prefix: z.string().default('→') }),
  setup(ctx) {
    ctx.onMessage(async ({ message }) => {
      if (!message.text.startsWith('slow') && !message.text.startsWith('fast')) return undefined;
      if (message.text.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, 300));
      return `${ctx.botConfig(message.botName).prefix} ${message.text}`;
    });
  },
});

let dir: string;
let t: TestBridge;
let phone: FakeBridgeClient;

async function start(options: { watch?: boolean } = {}): Promise<void> {
  t = await createTestBridge({
    plugins: [
      usePlugin(commands, { admins: { [BOT]: [{ userHash: ADMIN }] } }),
      pace,
      usePlugin(autoConfig, { dir, debounceMs: 20, pollIntervalMs: options.watch === false ? 50 : 60_000, watch: options.watch ?? true }),
    ],
    config: { pipeline: { replyGapMs: 0 } },
    captureLogs: true,
  });
  phone = await t.client();
}

const file = () => join(dir, `${BOT}.json`);
const readDoc = async () => JSON.parse(await readFile(file(), 'utf8')) as BotConfigDocument & { plugins: Record<string, Record<string, unknown>> };

/** Writes the file and waits for the plugin's verdict on it (applied, or refused). */
async function edit(doc: unknown, verdict: 'bot config applied' | 'bot config edit refused; the previous settings stay in effect'): Promise<LogLine> {
  const before = t.logs.length;
  await writeFile(file(), typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return t.waitForLog((line) => t.logs.indexOf(line) >= before && line.msg === verdict);
}

afterEach(async () => {
  await t?.close();
  t = undefined as unknown as TestBridge;
  await rm(dir, { recursive: true, force: true });
});

describe('auto-config', () => {
  it('writes a new bot its file with every default, and edits change behaviour live', async () => {
    dir = await mkdtemp(join(tmpdir(), 'botbridge-autocfg-'));
    await start();

    const doc = await readDoc();
    expect(doc.core).toEqual({ replyGapMs: 0, outboxTtlMs: 600_000, rooms: {} });
    expect(doc.plugins.commands).toEqual({
      enabled: ['echo', 'client_info', 'imgext', 'reload_bots_config'],
      admins: [{ userHash: ADMIN, channelId: '*' }],
    });
    expect(doc.plugins.pace).toEqual({ prefix: '→' });
    expect(doc.plugins['auto-config']).toBeUndefined();
    expect(doc.$comment).toContain(BOT);
    await phone.shouldReply('# echo 안녕', '에코: 안녕');

    // Disable echo for this bot: its lines pass on to later plugins (none answers them).
    doc.plugins.commands!.enabled = ['client_info', 'imgext', 'reload_bots_config'];
    doc.plugins.pace!.prefix = '▶';
    await edit(doc, 'bot config applied');
    await phone.shouldNotReply('# echo 안녕');
    await phone.shouldReply('fast 1', '▶ fast 1');

    // A new admin for this bot only.
    doc.plugins.commands!.admins = [{ userHash: 'new-admin', channelId: CHANNEL }];
    await edit(doc, 'bot config applied');
    await phone.shouldReply({ text: '# reload bots-config', userHash: ADMIN }, '[ERROR] 관리자 전용 명령입니다.');
    await phone.shouldReply({ text: '# reload bots-config', userHash: 'new-admin' }, /^✅ 봇 설정 갱신 완료!/);
  });

  it('applies a room ordering change live', async () => {
    dir = await mkdtemp(join(tmpdir(), 'botbridge-autocfg-'));
    await start();
    // Ordered (the default): the fast answer waits for the slow one before it.
    phone.analyze('slow a');
    phone.analyze('fast b');
    expect((await phone.waitForReplies(2)).map((r) => r.text)).toEqual(['→ slow a', '→ fast b']);

    const doc = await readDoc();
    await edit({ ...doc, core: { ...doc.core, rooms: { [CHANNEL]: { ordered: false } } } }, 'bot config applied');
    phone.analyze('slow c');
    phone.analyze('fast d');
    expect((await phone.waitForReplies(2)).map((r) => r.text)).toEqual(['→ fast d', '→ slow c']);
  });

  it('refuses a broken edit whole, logs every issue with its path, and keeps the previous settings', async () => {
    dir = await mkdtemp(join(tmpdir(), 'botbridge-autocfg-'));
    await start();
    const doc = await readDoc();
    const before = t.logs.length;
    const broken = {
      ...doc,
      core: { replyGapMs: -5, rooms: { [CHANNEL]: { ordered: 'no' } } },
      plugins: { ...doc.plugins, commands: { enabled: ['echo', 'dance'], admins: [] }, ghost: { x: 1 } },
    };
    await edit(broken, 'bot config edit refused; the previous settings stay in effect');
    const issues = t.logs.slice(before).filter((line) => typeof line.msg === 'string' && line.msg.startsWith('invalid bot config at'));
    expect(issues.map((line) => [line.section, line.path])).toEqual([
      [null, 'core.replyGapMs'],
      [null, `core.rooms.${CHANNEL}.ordered`],
      ['commands', 'plugins.commands.enabled[1]'],
    ]);
    expect(issues[0]).toMatchObject({ botName: BOT, file: file(), category: 'plugin:auto-config', plugin: 'auto-config', level: 50 });
    expect(t.logs.slice(before).some((line) => line.path === 'plugins.ghost' && line.level === 40)).toBe(true);
    // Nothing of the broken edit applies: echo still answers, with the old admins.
    await phone.shouldReply('# echo 그대로', '에코: 그대로');
    await phone.shouldReply({ text: '# reload bots-config', userHash: ADMIN }, /^✅/);

    const syntax = await edit('{ "core": { "replyGapMs": 0, }', 'bot config edit refused; the previous settings stay in effect');
    expect(syntax.botName).toBe(BOT);
    expect(t.logs.some((line) => line.path === '(file)' && /not valid JSON: .*line 1, column|not valid JSON: .*line 1 column/.test(String(line.issue)))).toBe(true);
    await phone.shouldReply('# echo 여전히', '에코: 여전히');
  });

  it('picks edits up by polling when watching is off, and a removed file means defaults', async () => {
    dir = await mkdtemp(join(tmpdir(), 'botbridge-autocfg-'));
    await start({ watch: false });
    const doc = await readDoc();
    doc.plugins.pace!.prefix = '#1';
    await edit(doc, 'bot config applied');
    await phone.shouldReply('fast x', '#1 fast x');

    await unlink(file());
    await t.waitForLog(/bot config file removed/);
    await phone.shouldReply('fast y', '→ fast y');
  });

  it('loads existing files at start and writes none over them', async () => {
    dir = await mkdtemp(join(tmpdir(), 'botbridge-autocfg-'));
    const own = { core: { replyGapMs: 0 }, plugins: { pace: { prefix: '¶' } } };
    await writeFile(file(), JSON.stringify(own));
    await start();
    await phone.shouldReply('fast z', '¶ fast z');
    expect(JSON.parse(await readFile(file(), 'utf8'))).toEqual(own);
  });
});

describe('auto-config limits', () => {
  it('writes at most maxBots files; later bots run on the defaults without one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'botbridge-autocfg-'));
    t = await createTestBridge({ plugins: [pace, usePlugin(autoConfig, { dir, maxBots: 1 })], captureLogs: true });
    await t.client();
    const other = await t.client({ botName: 'other', deviceId: 'd2' });
    await t.waitForLog(/at their limit \(maxBots\)/);
    expect(await readdir(dir)).toEqual([`${BOT}.json`]);
    await other.shouldReply('fast', '→ fast');
  });
});
