import { noReply, text, texts, type BridgeApi, type MediaReply } from '@botbridge/sdk';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { isAdmin } from '../src/admin.js';
import { CommandRegistry } from '../src/command-registry.js';
import { ACTIVE_WINDOW_MS, formatSummary } from '../src/commands/client-info.js';
import { commandsConfigSchema } from '../src/config.js';
import { createCommandHandler } from '../src/dispatch.js';
import { createBuiltinCommands } from '../src/plugin.js';
import { chatMessage, clientInfo, fakeBridge, messageContext } from './fake-context.js';

function handlerFor(bridge: BridgeApi = fakeBridge(), config: Parameters<typeof commandsConfigSchema.parse>[0] = {}) {
  const parsed = commandsConfigSchema.parse({ admins: { 'LOA.i': [{ userHash: 'admin1' }] }, ...(config as object) });
  const registry = new CommandRegistry(parsed.prefix);
  for (const command of createBuiltinCommands(parsed)) registry.register(command);
  const handler = createCommandHandler(registry, { bridge, isAdmin: (message) => isAdmin(parsed.admins, message) });
  return (input: string, userHash = 'abcd1234') => handler(messageContext(chatMessage(input, { userHash })));
}

describe('# echo', () => {
  const run = handlerFor();

  it('echoes', async () => {
    expect(await run('# echo 안녕 하세요')).toEqual(text('에코: 안녕 하세요'));
  });

  it('repeats with a counter, capped at maxRepeat with a warning first', async () => {
    expect(await run('# echo hi --repeat=3')).toEqual(texts(['[1/3] 에코: hi', '[2/3] 에코: hi', '[3/3] 에코: hi']));
    const capped = await run('# echo hi --repeat=7');
    expect(capped).toEqual(
      texts(['⚠️ 반복 횟수는 최대 5회로 제한됩니다.', ...[1, 2, 3, 4, 5].map((i) => `[${i}/5] 에코: hi`)]),
    );
    expect(await run('# echo hi --repeat=5')).toHaveLength(5);
  });

  it('says nothing for a repeat of zero or less', async () => {
    expect(await run('# echo hi --repeat=0')).toEqual(noReply());
    expect(await run('# echo hi --repeat=-2')).toEqual(noReply());
  });

  it('honours echo.maxRepeat', async () => {
    const result = await handlerFor(fakeBridge(), { echo: { maxRepeat: 2 } })('# echo hi --repeat=3');
    expect(result).toEqual(texts(['⚠️ 반복 횟수는 최대 2회로 제한됩니다.', '[1/2] 에코: hi', '[2/2] 에코: hi']));
  });
});

describe('# client_info', () => {
  const now = Date.now();
  const clients = [
    clientInfo({
      botName: 'LOA.i',
      deviceId: 'dev1',
      version: '3.2.1',
      lastPingAt: now - 1_000,
      rttMs: 42,
      monitoring: { totalMemory: 512, memoryUsage: 97.3, memoryPercent: 19, messageQueueSize: 0, activeRooms: 3 },
    }),
    clientInfo({ botName: 'kkobot', deviceId: 'dev2', version: '3.2.0', lastPingAt: now - ACTIVE_WINDOW_MS - 1 }),
  ];
  const run = handlerFor(fakeBridge({ clients: () => clients }));

  it('summarises every client for an admin', async () => {
    expect(await run('# client_info summary', 'admin1')).toEqual(
      text(
        [
          '📊 클라이언트 상태 요약',
          '총 연결: 2개',
          '활성 클라이언트: 1개',
          '',
          '📋 연결된 클라이언트:',
          '1. LOA.i (v3.2.1)',
          '   Device: dev1',
          '   RAM: 97.3MB/512MB (19.0%)',
          '   RTT: 42ms',
          '2. kkobot (v3.2.0)',
          '   Device: dev2',
        ].join('\n'),
      ),
    );
    expect(await run('# client_info', 'admin1')).toEqual(await run('# client_info summary', 'admin1'));
  });

  it('filters by --bot-name and says so in the header', async () => {
    const result = (await run('# client_info --bot-name=kkobot', 'admin1')) as { text: string };
    expect(result.text.split('\n').slice(0, 3)).toEqual(['📊 클라이언트 상태 요약 (필터: kkobot)', '총 연결: 1개', '활성 클라이언트: 0개']);
    expect(result.text).not.toContain('LOA.i');
  });

  it('answers the usage for any other prompt', async () => {
    expect(await run('# client_info detail', 'admin1')).toEqual(
      text('🔍 클라이언트 정보 명령어 사용법:\n\n# client_info summary - 클라이언트 요약 정보 조회'),
    );
  });

  it('refuses non-admins', async () => {
    expect(await run('# client_info summary')).toEqual(text('[ERROR] 관리자 전용 명령입니다.'));
  });

  it('computes the RAM percentage when the phone sent none', () => {
    const summary = formatSummary(
      [clientInfo({ monitoring: { totalMemory: 400, memoryUsage: 100, memoryPercent: null, messageQueueSize: null, activeRooms: null } })],
      undefined,
      0,
    );
    expect(summary).toContain('   RAM: 100MB/400MB (25.0%)');
  });

  it("shows each client's protocol when known", () => {
    const summary = formatSummary([clientInfo({ version: '3.3.3', protocol: 'v3.3' }), clientInfo({ version: '3.2.1', protocol: 'v3.2' })], undefined, 0);
    expect(summary).toContain('1. LOA.i (v3.3.3, v3.3)');
    expect(summary).toContain('2. LOA.i (v3.2.1, v3.2)');
  });
});

describe('# IMGEXT', () => {
  const run = handlerFor();

  it('sends one PNG per word as one base64 media reply', async () => {
    const reply = (await run('# IMGEXT 1 two 3')) as MediaReply;
    expect(reply).toMatchObject({ kind: 'media', form: 'base64' });
    expect(reply.items).toHaveLength(3);
    expect(reply.waitMs).toBeUndefined();
    const corners = reply.items.map((item) => {
      const png = PNG.sync.read(Buffer.from(item, 'base64'));
      expect([png.width, png.height]).toEqual([100, 100]);
      return [...png.data.subarray(0, 3)];
    });
    expect(corners).toEqual([[255, 0, 0], [0, 255, 0], [0, 0, 255]]);
  });

  it('passes --media-wait-time clamped to 1000–30000', async () => {
    expect(((await run('# IMGEXT a --media-wait-time=5000')) as MediaReply).waitMs).toBe(5000);
    expect(((await run('# IMGEXT a --media-wait-time=10')) as MediaReply).waitMs).toBe(1000);
    expect(((await run('# IMGEXT a --media-wait-time=60000')) as MediaReply).waitMs).toBe(30000);
  });

  it('answers the usage without words', async () => {
    expect(await run('# IMGEXT')).toEqual(text('사용법: # IMGEXT 1 2 3 (공백으로 구분된 값들)'));
    expect(await run('# IMGEXT --media-wait-time=2000')).toEqual(text('사용법: # IMGEXT 1 2 3 (공백으로 구분된 값들)'));
  });
});

describe('# reload bots-config', () => {
  it('reloads approvals for an admin', async () => {
    let calls = 0;
    const run = handlerFor(fakeBridge({ reloadApprovals: async () => (calls++, { devices: 4, changed: 1 }) }));
    expect(await run('# reload bots-config', 'admin1')).toEqual(text('✅ 봇 설정 갱신 완료!\n• 총 4개 봇 확인\n• 1개 봇 상태 변경됨'));
    expect(await run('# reload bots-config')).toEqual(text('[ERROR] 관리자 전용 명령입니다.'));
    expect(calls).toBe(1);
  });

  it('reports a failed reload', async () => {
    const run = handlerFor(fakeBridge({ reloadApprovals: async () => Promise.reject(new Error('db down')) }));
    expect(await run('# reload bots-config', 'admin1')).toEqual(text('❌ 봇 설정 갱신 실패: db down'));
  });
});

describe('config', () => {
  it('has the documented defaults', () => {
    expect(commandsConfigSchema.parse({})).toEqual({
      prefix: '#',
      admins: {},
      echo: { maxRepeat: 5 },
      imgext: { size: 100, minWaitMs: 1000, maxWaitMs: 30000 },
      unknownParameters: 'hint',
    });
    expect(commandsConfigSchema.parse({ admins: { b: [{ userHash: 'h' }] } }).admins).toEqual({ b: [{ userHash: 'h', channelId: '*' }] });
  });

  it('refuses unknown keys, unknown command names and an inverted wait range', () => {
    expect(commandsConfigSchema.safeParse({ prefx: '!' }).success).toBe(false);
    expect(commandsConfigSchema.safeParse({ enabled: ['ping'] }).success).toBe(false);
    expect(commandsConfigSchema.safeParse({ imgext: { minWaitMs: 5000, maxWaitMs: 100 } }).success).toBe(false);
  });

  it('enables only the listed commands; the others fall through', async () => {
    const run = handlerFor(fakeBridge(), { enabled: ['echo'] });
    expect(await run('# echo x')).toEqual(text('에코: x'));
    expect(await run('# IMGEXT a')).toBeUndefined();
  });
});
