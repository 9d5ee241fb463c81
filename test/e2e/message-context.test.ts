import { describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { useBridges } from './helpers.js';

/** What an onMessage handler receives, as plugin authors write handlers. */

const { bridge } = useBridges();

describe('the message context of a handler', () => {
  it('survives destructuring: reply, log and signal work without `this`', async () => {
    const logged: unknown[] = [];
    const destructuring = definePlugin({
      name: 'destructuring',
      setup(ctx) {
        ctx.onMessage(async ({ message, reply, log, signal, room }) => {
          await reply(`먼저: ${message.text}`);
          log.info({ aborted: signal.aborted, status: room.status }, 'handled');
          logged.push(message.traceId);
          return `나중: ${message.text}`;
        });
      },
    });
    const t = await bridge({ plugins: [destructuring], config: { pipeline: { replyGapMs: 0 } }, captureLogs: true });
    const phone = await t.client();
    await phone.shouldReply('안녕', ['먼저: 안녕', '나중: 안녕']);
    expect(await t.waitForLog('handled')).toMatchObject({ category: 'plugin:destructuring', traceId: logged[0], aborted: false, status: 'approved' });
  });
});
