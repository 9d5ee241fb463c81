import { describe, expect, it } from 'vitest';
import { createLogger, openStore } from '@botbridge/core';
import { EventBus } from '../../core/src/events/bridge-events.js';
import { Counters } from '../../core/src/metrics/counters.js';
import { BatchWriter } from '../../core/src/monitor/batch-writer.js';
import { isStoreUnavailable } from '../../core/src/store/store-errors.js';
import type { ChatLogRow } from '../../core/src/store/types.js';
import { MYSQL_SERVER, rows, useMysql } from './mysql-harness.js';

/**
 * What the chat-log writer sends MariaDB, read on the wire (a TCP proxy between the store and the
 * real server): one multi-row INSERT per batch, no BEGIN/COMMIT round trips around it.
 */

const row = (i: number): ChatLogRow => ({
  channelId: '18445682959392711', userHash: `u${i % 7}`, roomName: '테스트방', sender: '보낸이', message: `메시지 ${i}`,
  directive: null, messageType: 'text', isMeaningful: true, botName: 'LOA.i', isMention: false, isGroupChat: true,
  logId: String(1_000_000 + i), clientTimestamp: null, serverTimestamp: new Date(), isBot: false, isOurBotResponse: false,
  isScheduled: false,
});

describe.skipIf(MYSQL_SERVER === undefined)('chat-log batches on MariaDB', { timeout: 60_000 }, () => {
  const my = useMysql();

  it('one multi-row INSERT per batch, without a transaction around it', async () => {
    const url = await my.database();
    const proxy = await my.proxy(url);
    const store = await openStore(proxy.urlFor(url));
    let sent = '';
    proxy.onClientBytes((chunk) => (sent += chunk.toString('latin1')));
    const counters = new Counters();
    const writer = new BatchWriter<ChatLogRow>({
      name: 'chat_log', batchSize: 1_000, limit: 10_000, spillLimit: 0, flushDelayMs: 1, retryDelayMs: 1,
      events: new EventBus(counters), log: createLogger({ level: 'silent' }), isRetryable: isStoreUnavailable,
      write: (batch) => store.insertChatLogs(batch),
    });
    for (let i = 0; i < 2_500; i += 1) writer.push(row(i));
    await writer.close();
    await store.close();

    expect(sent.match(/insert into `kb_chat_logs`/gi)).toHaveLength(3);
    // COM_QUERY is command byte 3: no transaction statements were sent for these batches.
    expect(sent.match(/\x03(begin|start transaction|commit)/gi)).toBeNull();
    expect(counters.get('store_rows_written', 'chat_log')).toBe(2_500);
    const sql = await my.sql(url);
    const [{ n }] = await rows<{ n: number }>(sql, 'select count(*) as n from kb_chat_logs');
    expect(n).toBe(2_500);
  });

  it('a batch past the statement limits is several INSERTs in one transaction, every row written', async () => {
    const url = await my.database();
    const proxy = await my.proxy(url);
    const store = await openStore(proxy.urlFor(url));
    let sent = '';
    proxy.onClientBytes((chunk) => (sent += chunk.toString('latin1')));
    // 2,000,000 characters per statement at most: 40 rows of 60,000 characters need two.
    const long = Array.from({ length: 40 }, (_, i) => ({ ...row(i), message: `${i}:`.padEnd(60_000, '가') }));
    await store.insertChatLogs(long);
    await store.close();
    expect(sent.match(/insert into `kb_chat_logs`/gi)).toHaveLength(2);
    expect(sent.match(/\x03begin/gi)).toHaveLength(1);
    expect(sent.match(/\x03commit/gi)).toHaveLength(1);
    const sql = await my.sql(url);
    const stored = await rows<{ message: string }>(sql, 'select message from kb_chat_logs order by id');
    expect(stored.map((r) => r.message)).toEqual(long.map((r) => r.message));
  });
});
