import { resolve } from 'node:path';
import { sql } from 'kysely';
import type { IndexShape } from '../schema-inspect.js';
import { openSqliteConnection, SQLITE_MEMORY } from '../sqlite.js';
import { invalidStoreUrl } from '../store-url.js';
import type { Dialect } from './dialect.js';

/**
 * SQLite through better-sqlite3: `sqlite:PATH` (a relative PATH resolves against the working
 * directory; `sqlite::memory:` is a private in-memory database, for tests). The connection, its
 * pragmas and the writer thread are in sqlite.ts.
 */
export interface SqliteTarget {
  readonly kind: 'sqlite';
  readonly path: string;
}

/** SQLite result codes about the file or its lock, not the statement. */
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|CORRUPT|NOTADB|PROTOCOL)/;

export const sqliteDialect: Dialect<SqliteTarget> = {
  name: 'sqlite',
  urlForm: 'sqlite:PATH',

  recognises: (url) => /^sqlite:/i.test(url),

  parseUrl(url, cwd) {
    const path = url.slice('sqlite:'.length);
    if (path === '') throw invalidStoreUrl(url, 'no file path after sqlite:');
    if (path === SQLITE_MEMORY) return { kind: 'sqlite', path: SQLITE_MEMORY };
    return { kind: 'sqlite', path: resolve(cwd, path) };
  },

  open: async (target) => openSqliteConnection(target.path),

  // Only INTEGER PRIMARY KEY may AUTOINCREMENT; times are UTC text (db-time.ts).
  columnTypes: { id: 'integer', time: 'text', longText: 'text' },
  tableOptions: sql``,
  createIndexIfNotExists: true,

  async readTableColumns(db, table) {
    const { rows } = await sql<{ name: string; type: string }>`select name, type from pragma_table_info(${table})`.execute(db);
    return new Map(rows.map((r) => [r.name, String(r.type).toLowerCase()]));
  },

  async readIndexes(db, table) {
    const list = await sql<{ name: string; unique: number }>`select name, "unique" from pragma_index_list(${table})`.execute(db);
    const out: IndexShape[] = [];
    for (const index of list.rows) {
      const info = await sql<{ name: string }>`select name from pragma_index_info(${index.name}) order by seqno`.execute(db);
      out.push({ name: index.name, unique: Number(index.unique) === 1, columns: info.rows.map((r) => r.name) });
    }
    return out;
  },

  isUnavailable(error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return TRANSIENT_SQLITE.test(code);
    return undefined;
  },
};
