import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { JournalRow } from './exact-once.js';

/** What the checker reads from a scenario's SQLite file (read-only; the server may be dead or stopped). */
export interface StoreView {
  readonly journal: JournalRow[];
  /** log ids of kb_chat_logs received rows. */
  readonly chatLogged: Set<string>;
  /** kb_chat_logs rows of our replies, by the log id their text names (`echo <logId>`). */
  readonly replyRows: Map<string, number>;
  readonly chatLogRows: number;
}

export function readStore(dbFile: string): StoreView {
  const empty: StoreView = { journal: [], chatLogged: new Set(), replyRows: new Map(), chatLogRows: 0 };
  if (!existsSync(dbFile)) return empty;
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const tables = new Set((db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((t) => t.name));
    const journal = tables.has('botbridge_journal')
      ? (db.prepare('select log_id, state from botbridge_journal').all() as JournalRow[])
      : [];
    if (!tables.has('kb_chat_logs')) return { ...empty, journal };
    const rows = db.prepare('select log_id, message, is_our_bot_response from kb_chat_logs').all() as { log_id: string | null; message: string; is_our_bot_response: number }[];
    const chatLogged = new Set<string>();
    const replyRows = new Map<string, number>();
    for (const row of rows) {
      if (row.is_our_bot_response) {
        const id = row.message.startsWith('echo ') ? row.message.slice(5) : row.message;
        replyRows.set(id, (replyRows.get(id) ?? 0) + 1);
      } else if (row.log_id !== null) chatLogged.add(row.log_id);
    }
    return { journal, chatLogged, replyRows, chatLogRows: rows.length };
  } finally {
    db.close();
  }
}

/** Journal rows still `admitted` (not done). */
export function pendingCount(dbFile: string): number {
  return readStore(dbFile).journal.filter((r) => r.state === 'admitted').length;
}

/** The same view from a MySQL/MariaDB store (the cluster scenario's shared database). */
export async function readMysqlStore(url: string): Promise<StoreView> {
  const { createConnection } = await import('mysql2/promise');
  const target = new URL(url);
  const db = await createConnection({
    host: target.hostname, port: Number(target.port || 3306), user: decodeURIComponent(target.username), password: decodeURIComponent(target.password),
    database: target.pathname.slice(1), supportBigNumbers: true, bigNumberStrings: true,
  });
  try {
    const [journal] = await db.query('select log_id, state, node_id from botbridge_journal');
    const [rows] = await db.query('select log_id, message, is_our_bot_response from kb_chat_logs');
    const chatLogged = new Set<string>();
    const replyRows = new Map<string, number>();
    for (const row of rows as { log_id: string | null; message: string; is_our_bot_response: number }[]) {
      if (row.is_our_bot_response) {
        const id = row.message.startsWith('echo ') ? row.message.slice(5) : row.message;
        replyRows.set(id, (replyRows.get(id) ?? 0) + 1);
      } else if (row.log_id !== null) chatLogged.add(row.log_id);
    }
    return { journal: journal as JournalRow[], chatLogged, replyRows, chatLogRows: (rows as unknown[]).length };
  } finally {
    await db.end();
  }
}
