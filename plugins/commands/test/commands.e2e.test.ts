import { usePlugin } from '@botbridge/sdk';
import { createTestBridge, type FakeBridgeClient, type TestBridge } from '@botbridge/testing';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commands } from '../src/index.js';

const ADMIN = 'admin1';
const CHANNEL = '18445682959392711'; // the fake client's default channelId

let t: TestBridge;
let phone: FakeBridgeClient;

beforeEach(async () => {
  t = await createTestBridge({
    plugins: [usePlugin(commands, { admins: { 'LOA.i': [{ userHash: ADMIN }] } })],
    // A short reply gap keeps multi-reply tests quick; the first ping at once makes client_info deterministic.
    config: { pipeline: { replyGapMs: 10 }, session: { pingJitterMs: 0 } },
  });
  phone = await t.client();
});

afterEach(async () => {
  await t.close();
});

describe('# echo', () => {
  it('echoes the text', async () => {
    await phone.shouldReply('# echo 안녕하세요', '에코: 안녕하세요');
  });

  it('repeats in order', async () => {
    await phone.shouldReply('# echo hi --repeat=3', ['[1/3] 에코: hi', '[2/3] 에코: hi', '[3/3] 에코: hi']);
  });

  it('warns and caps a repeat above 5', async () => {
    await phone.shouldReply('# echo hi --repeat=7', [
      '⚠️ 반복 횟수는 최대 5회로 제한됩니다.',
      '[1/5] 에코: hi',
      '[2/5] 에코: hi',
      '[3/5] 에코: hi',
      '[4/5] 에코: hi',
      '[5/5] 에코: hi',
    ]);
  });

  it('reports a bad parameter', async () => {
    await phone.shouldReply('# echo hi --repeat=abc', "❌ 파라미터 오류: 파라미터 'repeat'의 값이 올바른 int 형식이 아닙니다: abc");
  });

  it('answers the usage without text', async () => {
    await phone.shouldReply('# echo', '사용법: # echo {내용}');
  });

  it('runs only in the room named by --channel-id', async () => {
    await phone.shouldNotReply(`# echo elsewhere --channel-id=999`);
    // Replies keep message order per room: this answer proves the line above was handled, silently.
    await phone.shouldReply(`# echo here --channel-id=${CHANNEL}`, '에코: here');
  });

  it('stays silent for a repeat of 0 and for messages that are no command', async () => {
    await phone.shouldNotReply('# echo hi --repeat=0');
    await phone.shouldNotReply('# echoes');
    await phone.shouldNotReply('hello');
    await phone.shouldReply('# echo still here', '에코: still here');
  });
});

describe('# client_info', () => {
  it('summarises the connected clients for an admin', async () => {
    await vi.waitFor(() => expect(t.bridge.clients()[0]?.lastPingAt).not.toBeNull(), { timeout: 5_000 });
    await phone.shouldReply({ text: '# client_info summary', userHash: ADMIN }, [
      new RegExp(
        '^' +
          [
            '📊 클라이언트 상태 요약',
            '총 연결: 1개',
            '활성 클라이언트: 1개',
            '',
            '📋 연결된 클라이언트:',
            '1\\. LOA\\.i \\(v3\\.2\\.1, v3\\.2\\)',
            '   Device: a1b2c3d4e5f60718',
            '   RAM: 97\\.3MB/512MB \\(19\\.0%\\)',
            '   RTT: \\d+ms',
          ].join('\\n') +
          '$',
      ),
    ]);
  });

  it('filters by --bot-name', async () => {
    await phone.shouldReply(
      { text: '# client_info --bot-name=kkobot', userHash: ADMIN },
      '📊 클라이언트 상태 요약 (필터: kkobot)\n총 연결: 0개\n활성 클라이언트: 0개\n\n📋 연결된 클라이언트:',
    );
  });

  it('refuses a non-admin, whatever the sender name', async () => {
    await phone.shouldReply({ text: '# client_info summary', sender: ADMIN }, '[ERROR] 관리자 전용 명령입니다.');
  });
});

describe('# IMGEXT', () => {
  it('sends one base64 PNG per word with the wait time', async () => {
    phone.analyze('# IMGEXT 1 2 3 --media-wait-time=5000');
    const reply = await phone.nextReply();
    expect(reply.text.startsWith('IMAGE_BASE64:')).toBe(true);
    const items = reply.text.slice('IMAGE_BASE64:'.length).split('|||');
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(item).toMatch(/^[A-Za-z0-9+/=]+$/);
      expect(PNG.sync.read(Buffer.from(item, 'base64')).width).toBe(100);
    }
    expect(reply.media_wait_time).toBe(5000);
    expect(reply.channel_id).toBe(CHANNEL);
  });

  it('clamps the wait time and answers the usage without words', async () => {
    phone.analyze('# IMGEXT a --media-wait-time=100');
    expect((await phone.nextReply()).media_wait_time).toBe(1000);
    await phone.shouldReply('# IMGEXT', '사용법: # IMGEXT 1 2 3 (공백으로 구분된 값들)');
  });
});

describe('# reload bots-config', () => {
  it('reloads approvals for an admin and refuses others', async () => {
    await phone.shouldReply(
      { text: '# reload bots-config', userHash: ADMIN },
      /^✅ 봇 설정 갱신 완료!\n• 총 [1-9]\d*개 봇 확인\n• \d+개 봇 상태 변경됨$/,
    );
    await phone.shouldReply('# reload bots-config', '[ERROR] 관리자 전용 명령입니다.');
  });
});
