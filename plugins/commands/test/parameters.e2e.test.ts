import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, text, usePlugin } from '@botbridge/sdk';
import { createTestBridge, type TestBridge } from '@botbridge/testing';
import { commands, defineCommand } from '../src/index.js';

/**
 * Parameters as docs/plugins.md documents them: numbers outside [min, max] are clamped (the
 * command runs with the bound), a parameter the command does not take is answered with a
 * Korean hint (or ignored, with `unknownParameters: 'ignore'`, as the old server did).
 */

/** The dice of docs/plugins.md, answering the number of sides it rolled with (the roll itself is random). */
const dice = definePlugin({
  name: 'dice',
  inject: ['commands'],
  setup(ctx) {
    ctx.inject('commands').register(defineCommand({
      name: 'dice',
      trigger: 'dice',
      description: '주사위를 굴립니다',
      parameters: [{ name: 'sides', type: 'int', optional: true, default: 6, min: 2, max: 1000, description: '면의 수' }],
      run: ({ params }) => text(`🎲 d${Number(params.sides)}`),
    }));
  },
});

let t: TestBridge | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('command parameters', () => {
  it('clamps into [min, max] and answers an unknown parameter with a hint naming the likely one', async () => {
    t = await createTestBridge({ plugins: [commands, dice] });
    const phone = await t.client();
    await phone.shouldReply('# dice --sides=5000', '🎲 d1000');
    await phone.shouldReply('# dice --sides=1', '🎲 d2');
    await phone.shouldReply('# dice', '🎲 d6');
    await phone.shouldReply('# dice --side=3', '❌ 알 수 없는 파라미터: --side (혹시 --sides?) · 사용할 수 있는 파라미터: --sides, --channel-id');
    await phone.shouldReply('# dice --colour=red', '❌ 알 수 없는 파라미터: --colour · 사용할 수 있는 파라미터: --sides, --channel-id');
  });

  it("unknownParameters: 'ignore' runs the command without them (the old server's behaviour)", async () => {
    t = await createTestBridge({ plugins: [usePlugin(commands, { unknownParameters: 'ignore' }), dice] });
    const phone = await t.client();
    await phone.shouldReply('# dice --side=3', '🎲 d6');
  });
});
