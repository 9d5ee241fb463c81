import { afterEach, describe, expect, it } from 'vitest';
import { usePlugin } from '@botbridge/sdk';
import { createTestBridge, type TestBridge } from '@botbridge/testing';
import { hello } from '../src/index.js';

let t: TestBridge | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('hello', () => {
  it('greets the sender of a trigger word and lets other lines pass', async () => {
    t = await createTestBridge({ plugins: [hello] });
    const phone = await t.client();
    await phone.shouldReply({ text: ' Hello ', sender: '철수' }, '철수님 안녕하세요!');
    await phone.shouldNotReply('hello there');
  });

  it('takes its triggers and greeting from its config', async () => {
    t = await createTestBridge({ plugins: [usePlugin(hello, { triggers: ['ㅎㅇ'], greeting: '반가워요, {sender}!' })] });
    const phone = await t.client();
    await phone.shouldReply({ text: 'ㅎㅇ', sender: '영희' }, '반가워요, 영희!');
    await phone.shouldNotReply('안녕');
  });

  it('follows its per-bot settings live', async () => {
    t = await createTestBridge({ plugins: [hello] });
    const phone = await t.client();
    expect(t.setBotConfig('LOA.i', { plugins: { hello: { greeting: '{sender}, 어서 오세요' } } }).ok).toBe(true);
    await phone.shouldReply({ text: '안녕', sender: '민수' }, '민수, 어서 오세요');
    t.setBotConfig('LOA.i', { plugins: { hello: { enabled: false } } });
    await phone.shouldNotReply('안녕');
    const refused = t.setBotConfig('LOA.i', { plugins: { hello: { enabled: 'yes' } } });
    expect(refused.ok).toBe(false);
  });

  it('refuses an invalid config at start, naming the plugin and the key', async () => {
    await expect(createTestBridge({ plugins: [usePlugin(hello, { triggers: [] })] })).rejects.toThrow(
      'invalid plugin config: plugin hello: triggers: ',
    );
  });
});
