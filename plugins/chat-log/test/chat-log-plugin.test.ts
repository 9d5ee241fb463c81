import type { ChatMessage, PluginContext, ReceivedMessage, SentReply } from '@botbridge/sdk';
import type { ChatLogEntry } from '../src/chat-log-entry.js';
import { mediaBase64, mediaUrl, text } from '@botbridge/sdk';
import { describe, expect, it } from 'vitest';
import { chatLogConfigSchema, type ChatLogConfigInput } from '../src/config.js';
import { chatLog } from '../src/plugin.js';

const message: ChatMessage = {
  id: 'LOA.i/111/9',
  traceId: 't',
  botName: 'LOA.i',
  deviceId: 'd',
  room: '테스트방',
  channelId: '111',
  logId: '9',
  text: '# echo hi',
  sender: '홍길동',
  userHash: 'abcd1234',
  isGroupChat: true,
  isMention: true,
  clientTimestamp: '2025-07-15 17:00:00',
  receivedAt: 0,
  legacy: false,
};

/** A PluginContext that records the taps; only what chat-log uses is live. */
async function load(config: ChatLogConfigInput = {}) {
  const rows: ChatLogEntry[] = [];
  const taps: { receive?: (event: ReceivedMessage) => unknown; sent?: (sent: SentReply) => void } = {};
  const unused = () => {
    throw new Error('not used by chat-log');
  };
  const ctx = {
    name: 'chat-log',
    log: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => ctx.log },
    bridge: { clients: unused, reloadApprovals: unused, send: unused, appendRow: (table: string, row: ChatLogEntry) => void (table === 'kb_chat_logs' && rows.push(row)) },
    onReceive: (handler: (event: ReceivedMessage) => unknown) => void (taps.receive = handler),
    on: (name: string, handler: (event: { sent: SentReply }) => void) => {
      if (name !== 'reply:sent') unused();
      taps.sent = (sent: SentReply) => handler({ sent });
      return () => undefined;
    },
    onHandshake: unused,
    onMessage: unused,
    beforeReply: unused,
    effect: unused,
    setInterval: unused,
    setTimeout: unused,
  } as unknown as PluginContext;
  await chatLog.setup(ctx, chatLogConfigSchema.parse(config));
  return { rows, taps };
}

const received = (overrides: Partial<ChatMessage> = {}, approved = true): ReceivedMessage => {
  const m = { ...message, ...overrides };
  return { message: m, room: { botName: m.botName, channelId: m.channelId, name: m.room, status: 'pending' }, deviceApproved: approved, roomApproved: approved };
};

const sent = (reply: SentReply['reply'], overrides: Partial<SentReply> = {}): SentReply => ({
  reply,
  target: { botName: 'LOA.i', room: '테스트방', channelId: '111' },
  message,
  traceId: 't',
  index: 0,
  ok: true,
  sentAt: 0,
  ...overrides,
});

describe('chat-log plugin', () => {
  it('logs a received line with every field, approved or not', async () => {
    const { rows, taps } = await load();
    await taps.receive?.(received({}, false));
    expect(rows).toEqual([
      {
        botName: 'LOA.i',
        channelId: '111',
        roomName: '테스트방',
        sender: '홍길동',
        userHash: 'abcd1234',
        text: '# echo hi',
        logId: '9',
        clientTimestamp: '2025-07-15 17:00:00',
        isMention: true,
        isGroupChat: true,
        directive: '# echo',
        messageType: 'command',
        isMeaningful: true,
        isBot: false,
        isOurBotResponse: false,
        isScheduled: false,
      },
    ]);
  });

  it('uses the configured prefix', async () => {
    const { rows, taps } = await load({ prefix: '!' });
    await taps.receive?.(received({ text: '! 날씨' }));
    await taps.receive?.(received({ text: '# echo' }));
    expect(rows.map((row) => [row.directive, row.messageType])).toEqual([
      ['! 날씨', 'command'],
      [null, 'text'],
    ]);
  });

  it('logs our successful replies as the bot, and not failed ones', async () => {
    const { rows, taps } = await load();
    taps.sent?.(sent(text('에코: hi')));
    taps.sent?.(sent(text('lost'), { ok: false, error: 'no-client' }));
    expect(rows).toEqual([
      expect.objectContaining({
        sender: 'LOA.i',
        text: '에코: hi',
        userHash: null,
        isBot: true,
        isOurBotResponse: true,
        isScheduled: false,
        isGroupChat: true,
        messageType: 'text',
        directive: null,
      }),
    ]);
  });

  it('logs media replies without their base64 and proactive sends as scheduled', async () => {
    const { rows, taps } = await load();
    taps.sent?.(sent(mediaBase64(['aaaa', 'bbbb'])));
    taps.sent?.(sent(mediaUrl(['https://x/1.png', 'https://x/2.png']), { message: null }));
    expect(rows.map((row) => [row.text, row.messageType, row.isScheduled, row.isGroupChat])).toEqual([
      ['IMAGE_BASE64:(2 images)', 'media', false, true],
      ['MEDIA_URL:https://x/1.png|||https://x/2.png', 'media', true, false],
    ]);
  });

  it('does not tap replies when logReplies is false', async () => {
    const { taps } = await load({ logReplies: false });
    expect(taps.sent).toBeUndefined();
  });

  it('skips excluded rooms both ways', async () => {
    const { rows, taps } = await load({ excludeRooms: ['111'] });
    await taps.receive?.(received());
    taps.sent?.(sent(text('x')));
    await taps.receive?.(received({ channelId: '222' }));
    await taps.receive?.(received({ channelId: null }));
    expect(rows.map((row) => row.channelId)).toEqual(['222', null]);
  });

  it('has the documented config defaults', () => {
    expect(chatLogConfigSchema.parse({})).toEqual({ prefix: '#', logReplies: true, excludeRooms: [] });
    expect(chatLogConfigSchema.safeParse({ exclude: [] }).success).toBe(false);
  });
});
