import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { definePlugin, text, usePlugin } from '@botbridge/sdk';
import { createTestBridge } from '@botbridge/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chatLog } from '../src/index.js';

interface Row {
  id: number;
  bot_name: string;
  channel_id: string | null;
  room_name: string;
  sender: string;
  user_hash: string | null;
  message: string;
  directive: string | null;
  message_type: string;
  is_meaningful: number;
  is_mention: number;
  is_group_chat: number;
  log_id: string | null;
  client_timestamp: string | null;
  is_bot: number;
  is_our_bot_response: number;
  is_scheduled: number;
}

/** Answers `# echo x` with `에코: x`, so the log has replies of ours to record. */
const echo = definePlugin({
  name: 'test-echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => (message.text.startsWith('# echo ') ? text(`에코: ${message.text.slice(7)}`) : undefined));
  },
});

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-log-e2e-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Rows as the store wrote them; read after the bridge closed, which flushes the writer. */
function readRows(file: string): Row[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT * FROM kb_chat_logs ORDER BY id').all() as Row[];
  } finally {
    db.close();
  }
}

describe('chat-log over a real bridge', () => {
  it('logs received lines (approved or not) and our replies into kb_chat_logs', async () => {
    const file = join(dir, 'bridge.db');
    const t = await createTestBridge({
      plugins: [echo, usePlugin(chatLog, { excludeRooms: ['555'] })],
      config: { store: { url: `sqlite:${file}` } },
    });
    try {
      await t.setRoomStatus('LOA.i', '777', 'denied');
      const phone = await t.client();
      await phone.shouldReply({ text: '# echo hi', logId: '1001', isMention: true }, '에코: hi');
      await phone.shouldNotReply({ text: '...', logId: '1002' });
      await phone.shouldNotReply({ text: '안녕 denied room', channelId: '777', room: '막힌방', logId: '1003' });
      await phone.shouldReply({ text: '# echo secret', channelId: '555', room: '비밀방', logId: '1004' }, '에코: secret');
    } finally {
      await t.close();
    }
    const rows = readRows(file);

    expect(rows.map((row) => [row.message, row.sender, row.is_our_bot_response])).toEqual([
      ['# echo hi', '홍길동', 0],
      ['에코: hi', 'LOA.i', 1],
      ['...', '홍길동', 0],
      ['안녕 denied room', '홍길동', 0],
    ]);
    const [command, reply, dots, denied] = rows as [Row, Row, Row, Row];
    expect(command).toMatchObject({
      bot_name: 'LOA.i',
      channel_id: '18445682959392711',
      room_name: '테스트방',
      user_hash: 'abcd1234',
      directive: '# echo',
      message_type: 'command',
      is_meaningful: 1,
      is_mention: 1,
      is_group_chat: 1,
      log_id: '1001',
      is_bot: 0,
      is_scheduled: 0,
    });
    expect(command.client_timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(reply).toMatchObject({
      channel_id: '18445682959392711',
      room_name: '테스트방',
      user_hash: null,
      directive: null,
      message_type: 'text',
      is_bot: 1,
      log_id: null,
      is_scheduled: 0,
    });
    expect(dots).toMatchObject({ directive: null, message_type: 'text', is_meaningful: 0 });
    expect(denied).toMatchObject({ channel_id: '777', room_name: '막힌방', is_meaningful: 1 });
  });

  it('does not log replies when logReplies is false', async () => {
    const file = join(dir, 'bridge.db');
    const t = await createTestBridge({
      plugins: [echo, usePlugin(chatLog, { logReplies: false, prefix: '#' })],
      config: { store: { url: `sqlite:${file}` } },
    });
    try {
      const phone = await t.client();
      await phone.shouldReply('# echo once', '에코: once');
    } finally {
      await t.close();
    }
    expect(readRows(file).map((row) => [row.message, row.is_our_bot_response])).toEqual([['# echo once', 0]]);
  });
});
