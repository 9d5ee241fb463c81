import { noReply, text, texts } from '@botbridge/sdk';
import { describe, expect, it } from 'vitest';
import { CommandRegistry, defineCommand, type CommandInvocation } from '../src/command-registry.js';
import { createCommandHandler } from '../src/dispatch.js';
import { chatMessage, fakeBridge, messageContext, recordingLogger } from './fake-context.js';

function setup(options: { admin?: boolean } = {}) {
  const calls: CommandInvocation[] = [];
  const registry = new CommandRegistry('#')
    .register(
      defineCommand({
        name: 'say',
        trigger: 'say',
        description: '',
        promptRequired: true,
        parameters: [{ name: 'times', type: 'int', optional: true, default: 1, description: '' }],
        run: (invocation) => {
          calls.push(invocation);
          return text(`said ${invocation.prompt} x${String(invocation.params['times'])}`);
        },
      }),
    )
    .register(defineCommand({ name: 'secret', trigger: 'secret', description: '', adminOnly: true, run: () => text('ok') }))
    .register(
      defineCommand({
        name: 'boom',
        trigger: 'boom',
        description: '',
        run: () => {
          throw new Error('kaput');
        },
      }),
    )
    .register(defineCommand({ name: 'quiet', trigger: 'quiet', description: '', run: () => undefined }));
  const handler = createCommandHandler(registry, { bridge: fakeBridge(), isAdmin: () => options.admin === true });
  const log = recordingLogger();
  const run = (input: string, overrides: Parameters<typeof chatMessage>[1] = {}) =>
    handler(messageContext(chatMessage(input, overrides), log));
  return { run, calls, log };
}

describe('createCommandHandler', () => {
  it('returns undefined for messages that are no command, so later plugins may answer', async () => {
    const { run, calls } = setup();
    expect(await run('hello')).toBeUndefined();
    expect(await run('#say x')).toBeUndefined();
    expect(await run('# sayx hi')).toBeUndefined();
    expect(calls).toHaveLength(0);
  });

  it('runs a command with its prompt and parameters', async () => {
    const { run, calls } = setup();
    expect(await run('# say  hi there --times=3 ')).toEqual(text('said hi there x3'));
    expect(calls[0]?.trigger).toBe('# say');
    expect(calls[0]?.params).toEqual({ times: 3 });
  });

  it('answers a parameter error before anything else', async () => {
    const { run, calls } = setup();
    expect(await run('# say hi --times=abc --channel-id=other')).toEqual(
      text("❌ 파라미터 오류: 파라미터 'times'의 값이 올바른 int 형식이 아닙니다: abc"),
    );
    expect(calls).toHaveLength(0);
  });

  it('ignores a command addressed to another channel, silently, before the admin check', async () => {
    const { run } = setup({ admin: false });
    expect(await run('# secret --channel-id=999')).toEqual(noReply());
    expect(await run('# say hi --channel-id=999')).toEqual(noReply());
    expect(await run('# say hi --channel-id=1', { channelId: null })).toEqual(noReply());
    expect(await run('# say hi --channel-id=18445682959392711')).toEqual(text('said hi x1'));
  });

  it('refuses admin-only commands to others before checking the prompt', async () => {
    expect(await setup({ admin: false }).run('# secret')).toEqual(text('[ERROR] 관리자 전용 명령입니다.'));
    expect(await setup({ admin: true }).run('# secret')).toEqual(text('ok'));
  });

  it('answers the usage when a required prompt is empty (parameters do not count)', async () => {
    const { run, calls } = setup();
    expect(await run('# say')).toEqual(text('사용법: # say {내용}'));
    expect(await run('# say   --times=2')).toEqual(text('사용법: # say {내용}'));
    expect(calls).toHaveLength(0);
  });

  it('turns a handler exception into the old server error text and logs it', async () => {
    const { run, log } = setup();
    expect(await run('# boom')).toEqual(text('명령어 처리 중 오류가 발생했습니다: kaput'));
    expect(log.lines.some((line) => line.level === 'error')).toBe(true);
  });

  it('treats a command returning nothing as handled', async () => {
    expect(await setup().run('# quiet')).toEqual(noReply());
  });

  it('logs unknown parameters at debug level and still runs', async () => {
    const { run, log } = setup();
    expect(await run('# say hi --colour=red')).toEqual(text('said hi x1'));
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'debug', obj: { unknown: ['colour'] } }));
  });
});

describe('CommandRegistry', () => {
  const registry = new CommandRegistry('#')
    .register(defineCommand({ name: 'a', trigger: 'echo', description: '', run: () => texts([]) }))
    .register(defineCommand({ name: 'b', trigger: 'echo more', description: '', run: () => texts([]) }));

  it('matches in registration order with a word boundary', () => {
    expect(registry.match('# echo more x')?.command.name).toBe('a');
    expect(registry.match('# echo')?.rest).toBe('');
    expect(registry.match('# echo\thi')?.rest).toBe('\thi');
    expect(registry.match('# echoes')).toBeUndefined();
    expect(registry.match(' # echo')).toBeUndefined();
  });

  it('refuses clashing or padded registrations', () => {
    expect(() => registry.register(defineCommand({ name: 'a', trigger: 'x', description: '', run: () => undefined }))).toThrow();
    expect(() => registry.register(defineCommand({ name: 'c', trigger: 'echo', description: '', run: () => undefined }))).toThrow();
    expect(() => registry.register(defineCommand({ name: 'd', trigger: ' y', description: '', run: () => undefined }))).toThrow();
    expect(() => new CommandRegistry('')).toThrow();
  });

  it('uses the configured prefix', () => {
    const bang = new CommandRegistry('!').register(defineCommand({ name: 'e', trigger: 'echo', description: '', run: () => undefined }));
    expect(bang.match('! echo hi')?.trigger).toBe('! echo');
    expect(bang.match('# echo hi')).toBeUndefined();
  });
});
