import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, usePlugin } from '@botbridge/sdk';
import { createTestBridge, type TestBridge } from '@botbridge/testing';
import { autoConfig } from '@botbridge/plugin-auto-config';
import { commands } from '@botbridge/plugin-commands';
import { duplicateKeys } from './duplicate-keys.js';

/**
 * A pino child logger writes its bound keys and the logged object's keys side by side, so a key
 * bound by the child and logged again appears twice in one line (`"plugin":"auto-config",…,
 * "plugin":null`). JSON.parse keeps the last one, which hides it: these tests read the raw text.
 */

const BOT = 'LOA.i';

/** Throws from every hook it can, and logs through the message-bound logger. */
const thrower = definePlugin({
  name: 'thrower',
  setup(ctx) {
    ctx.on('onReceive', ({ message }) => {
      if (message.text.startsWith('boom')) throw new Error('receive failed');
    });
    ctx.onMessage((mctx) => {
      mctx.log.info({ length: mctx.message.text.length }, 'thrower saw a message');
      if (mctx.message.text.startsWith('boom')) throw new Error('handler failed');
      return undefined;
    });
    ctx.beforeReply(() => {
      throw new Error('rewrite failed');
    });
    ctx.effect(() => {
      throw new Error('teardown failed');
    });
  },
});

let t: TestBridge | undefined;
let dir: string | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('log lines', () => {
  it('the scanner finds a key written twice and nothing in a clean line', () => {
    expect(duplicateKeys('{"plugin":"auto-config","a":{"b":1,"b":[{"c":"}"}]},"plugin":null}')).toEqual(['a.b', 'plugin']);
    expect(duplicateKeys('{"a":"x\\"y","b":[1,2,{"a":{}}],"c":null}')).toEqual([]);
  });

  it('carry each key once while plugins throw, a bot config is refused and the bridge closes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'botbridge-logkeys-'));
    t = await createTestBridge({
      plugins: [thrower, usePlugin(commands, {}), usePlugin(autoConfig, { dir, debounceMs: 20, pollIntervalMs: 60_000, watch: true })],
      config: { log: { level: 'debug' }, pipeline: { replyGapMs: 0 } },
      captureLogs: true,
    });
    const phone = await t.client({ botName: BOT });
    const file = join(dir, `${BOT}.json`);
    await t.waitForLog('bot config file created with the defaults');

    phone.analyze('boom');
    await t.waitForLog((line) => line.code === 'BRIDGE_ERR_PLUGIN_HOOK' && line.hook === 'onMessage' && line.plugin === 'thrower');
    await phone.shouldReply('# echo 안녕', '에코: 안녕');
    await t.waitForLog((line) => line.code === 'BRIDGE_ERR_PLUGIN_HOOK' && line.hook === 'beforeReply');

    const doc = JSON.parse(await readFile(file, 'utf8')) as { plugins: Record<string, unknown> };
    await writeFile(file, JSON.stringify({ ...doc, core: { replyGapMs: -5 }, plugins: { ...doc.plugins, commands: { enabled: ['dance'] } } }));
    await t.waitForLog('bot config edit refused; the previous settings stay in effect');
    expect(t.logs.some((line) => line.plugin === 'auto-config' && line.section === 'commands')).toBe(true);

    const logged = t;
    t = undefined;
    await logged.close();
    expect(logged.logs.some((line) => line.msg === 'plugin teardown failed' && line.plugin === 'thrower')).toBe(true);
    expect(logged.rawLogs.length).toBeGreaterThan(10);
    const twice = logged.rawLogs.map((raw) => ({ raw, keys: duplicateKeys(raw) })).filter((line) => line.keys.length > 0);
    expect(twice).toEqual([]);
  });
});
