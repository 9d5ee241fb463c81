import { describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { BOT, DEVICE, useBridges } from './helpers.js';

/** Category loggers: each part of the core logs under its category, with its own level. */

const { bridge } = useBridges();

const noisy = definePlugin({
  name: 'noisy',
  setup(ctx) {
    ctx.log.debug('noisy set up');
    ctx.onMessage((m) => {
      m.log.debug({ length: m.message.text.length }, 'noisy handled a line');
      return `ok ${m.message.text}`;
    });
  },
});
const quiet = definePlugin({
  name: 'quiet',
  setup(ctx) {
    ctx.log.info('quiet set up');
  },
});

describe('log categories', () => {
  it('give each category its own level and tag every line with its category and what it is about', async () => {
    const t = await bridge({
      plugins: [noisy, quiet],
      config: { log: { level: 'info', categories: { handshake: 'warn', 'plugin:noisy': 'debug', 'plugin:quiet': 'warn' } }, limits: { maxTextLength: 10 } },
      captureLogs: true,
    });
    const phone = await t.client();
    await phone.shouldReply('안녕', 'ok 안녕');
    phone.analyze('이 줄은 열 글자를 넘습니다');
    await t.waitForLog('chat text too long; rejected');
    await phone.close();
    await t.waitForLog('client disconnected');

    const find = (msg: string) => t.logs.find((line) => line.msg === msg);
    // More verbose than the root level for one plugin, both in setup and in its handlers.
    expect(find('noisy set up')).toMatchObject({ category: 'plugin:noisy', plugin: 'noisy', level: 20 });
    const handled = find('noisy handled a line');
    expect(handled).toMatchObject({ category: 'plugin:noisy', botName: BOT, deviceId: DEVICE, room: '테스트방', length: 2, level: 20 });
    expect(handled!.traceId).toMatch(/\S/);
    // Quieter than the root level for another plugin.
    expect(find('quiet set up')).toBeUndefined();
    // Core categories keep the root level unless set.
    expect(find('chat text too long; rejected')).toMatchObject({ category: 'message', botName: BOT, deviceId: DEVICE, code: 'BRIDGE_ERR_TEXT_TOO_LONG' });
    expect(find('client disconnected')).toMatchObject({ category: 'connection', botName: BOT, deviceId: DEVICE });
    expect(find('client connected')).toMatchObject({ category: 'connection', botName: BOT });
    expect(t.logs.filter((line) => line.category === 'handshake')).toEqual([]);
  });

  it('refuses an unknown category, so a typo is not silently ignored', async () => {
    await expect(bridge({ config: { log: { categories: { pings: 'debug' } } } })).rejects.toThrow(/log\.categories\.pings/);
  });

  it('logs a refused handshake under handshake', async () => {
    const t = await bridge({ config: { log: { level: 'info' } }, captureLogs: true });
    await t.setDeviceStatus(BOT, DEVICE, 'blocked');
    const phone = await t.client();
    await phone.closed;
    expect(await t.waitForLog('handshake refused')).toMatchObject({ category: 'handshake', botName: BOT, deviceId: DEVICE });
  });
});
