import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openStore } from '@botbridge/core';
import type { ChatLogRow } from '@botbridge/core';

/**
 * Micro-benchmark behind the chat-log proposal in docs/benchmarks.md: the same rows written
 * (a) through the store as the bridge does now (Kysely, one multi-row INSERT per batch of 200,
 * in a transaction), and (b) through one prepared single-row INSERT reused for every row of the
 * batch, in a better-sqlite3 transaction. Both on a migrated SQLite file (WAL, synchronous=NORMAL).
 * Reports µs per row and how long each batch blocks the event loop.
 *   node --import tsx bench/micro/chat-log-insert.ts [rows]
 */
const ROWS = Number(process.argv[2] ?? 40_000);
const BATCH = 200;
const dir = mkdtempSync(join(tmpdir(), 'botbridge-micro-'));

function row(i: number): ChatLogRow {
  return {
    channelId: String(18_400_000_000_000_000n + BigInt(i % 100)), userHash: 'bench0000', roomName: `벤치방 ${i % 100}`,
    sender: '벤치사용자', message: `# echo c${i % 100}.${i}`, directive: 'echo', messageType: 'command', isMeaningful: true,
    botName: `load-bot-${i % 100}`, isMention: false, isGroupChat: true, logId: String(i + 1), clientTimestamp: '2026-11-22 05:00:00',
    serverTimestamp: new Date(), isBot: false, isOurBotResponse: false, isScheduled: false,
  };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;
function report(name: string, batches: number[]): void {
  const total = batches.reduce((a, b) => a + b, 0);
  process.stdout.write(`${name}: ${((total * 1000) / ROWS).toFixed(1)} µs/row; batch of ${BATCH}: p50 ${quantile(batches, 0.5).toFixed(2)} ms, p99 ${quantile(batches, 0.99).toFixed(2)} ms, max ${Math.max(...batches).toFixed(2)} ms\n`);
}

const rows = Array.from({ length: ROWS }, (_, i) => row(i));
try {
  const store = await openStore(`sqlite:${join(dir, 'kysely.db')}`);
  const kysely: number[] = [];
  for (let i = 0; i < ROWS; i += BATCH) {
    const t0 = performance.now();
    await store.insertChatLogs(rows.slice(i, i + BATCH));
    kysely.push(performance.now() - t0);
  }
  await store.close();
  report('store.insertChatLogs (Kysely multi-row)', kysely);

  await (await openStore(`sqlite:${join(dir, 'prepared.db')}`)).close();
  const db = new BetterSqlite3(join(dir, 'prepared.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare(
    'insert into kb_chat_logs (channel_id, user_hash, room_name, sender, message, directive, message_type, is_meaningful, bot_name, is_mention, is_group_chat, log_id, client_timestamp, server_timestamp, is_bot, is_our_bot_response, is_scheduled, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const time = (d: Date) => d.toISOString().slice(0, 23).replace('T', ' ');
  const writeBatch = db.transaction((batch: ChatLogRow[]) => {
    const now = time(new Date());
    for (const r of batch) {
      insert.run(r.channelId, r.userHash, r.roomName, r.sender, r.message, r.directive, r.messageType, r.isMeaningful ? 1 : 0, r.botName,
        r.isMention ? 1 : 0, r.isGroupChat ? 1 : 0, r.logId, r.clientTimestamp, time(r.serverTimestamp), r.isBot ? 1 : 0, r.isOurBotResponse ? 1 : 0, r.isScheduled ? 1 : 0, now);
    }
  });
  const prepared: number[] = [];
  for (let i = 0; i < ROWS; i += BATCH) {
    const t0 = performance.now();
    writeBatch(rows.slice(i, i + BATCH));
    prepared.push(performance.now() - t0);
  }
  db.close();
  report('prepared single-row INSERT, reused', prepared);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
