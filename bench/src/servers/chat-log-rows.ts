import Database from 'better-sqlite3';
import { createConnection } from 'mysql2/promise';

/**
 * Rows in kb_chat_logs, read straight from the store after the bridge closed (so every buffered
 * row had its chance to be written). Bench-only: the bench stores are a fresh SQLite file per run
 * or the recreated MariaDB bench database, so every row counted was written by this run.
 * null when the store cannot be read (`sqlite::memory:` is gone with the bridge).
 */
export async function countChatLogRows(storeUrl: string): Promise<number | null> {
  try {
    if (storeUrl.startsWith('sqlite:')) {
      const path = storeUrl.slice('sqlite:'.length);
      if (path === ':memory:') return null;
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM kb_chat_logs').get() as { n: number }).n;
      } finally {
        db.close();
      }
    }
    const url = new URL(storeUrl.replace(/^mariadb:/, 'mysql:'));
    const conn = await createConnection({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.slice(1),
    });
    try {
      const [rows] = await conn.query('SELECT COUNT(*) AS n FROM kb_chat_logs');
      return Number((rows as { n: number }[])[0]!.n);
    } finally {
      await conn.end();
    }
  } catch (error) {
    process.stderr.write(`bench: could not count chat-log rows in the store: ${String(error)}\n`);
    return null;
  }
}
