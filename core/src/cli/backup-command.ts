import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Command } from 'commander';
import { parseStoreUrl } from '../store/dialects/registry.js';
import type { MysqlTarget } from '../store/dialects/mysql.js';
import { CliError, EXIT_FAILURE } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { requireExistingStore, resolveStore } from './resolve-store-url.js';
import type { StoreOptions } from './resolve-store-url.js';

/**
 * `botbridge backup <file>`: a consistent copy of the SQLite store while the server runs.
 *
 * SQLite's online backup API (better-sqlite3 `db.backup`) from a separate connection: in WAL mode
 * the server keeps writing meanwhile. Every page is copied in one step, i.e. inside one read
 * transaction, so the copy is one snapshot; copied in small steps, each write of the server
 * between two steps would restart the backup, which on a busy store may never finish. The copy
 * is written beside the target, checked (integrity_check, row counts), switched to the rollback
 * journal (one self-contained file to keep or restore) and only then renamed into place.
 */

/** Copy everything in one backup step (sqlite3_backup_step's page count; better-sqlite3's maximum). */
const ALL_PAGES = 0x7fff_ffff;

export interface BackupSummary {
  readonly source: string;
  readonly file: string;
  readonly bytes: number;
  readonly integrity: string;
  readonly migrations: number;
  readonly rows: Readonly<Record<string, number>>;
}

/** Copies the SQLite file at `sourcePath` to `target` and verifies the copy. */
export async function backupSqlite(sourcePath: string, target: string): Promise<BackupSummary> {
  // Loaded here: the other commands never need the native module.
  const { default: Database } = await import('better-sqlite3');
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  const source = new Database(sourcePath, { fileMustExist: true });
  try {
    // The server may hold the write lock for a moment (a group commit): wait instead of failing.
    source.pragma('busy_timeout = 10000');
    await source.backup(partial, { progress: () => ALL_PAGES });
  } finally {
    source.close();
  }
  try {
    const summary = verifyCopy(Database, partial);
    renameSync(partial, target);
    return { ...summary, source: sourcePath, file: target, bytes: statSync(target).size };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

function verifyCopy(Database: typeof BetterSqlite3, path: string): Omit<BackupSummary, 'source' | 'file' | 'bytes'> {
  const copy = new Database(path, { fileMustExist: true });
  try {
    // The copy carries the source's WAL flag; a backup is one file, and the server switches a
    // restored file back to WAL when it opens it.
    copy.pragma('journal_mode = DELETE');
    const integrity = (copy.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    if (integrity !== 'ok') throw new CliError(`the copy failed its integrity check: ${integrity}`);
    const tables = (copy.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name").all() as { name: string }[]).map((t) => t.name);
    const rows: Record<string, number> = {};
    for (const table of tables) rows[table] = (copy.prepare(`select count(*) as n from "${table.replaceAll('"', '""')}"`).get() as { n: number }).n;
    return { integrity, migrations: rows.botbridge_migrations ?? 0, rows };
  } finally {
    copy.close();
  }
}

/** What to run instead for a MySQL/MariaDB store: mysqldump in one consistent snapshot, without locking the tables botbridge writes. */
export function mysqldumpAdvice(target: MysqlTarget, file: string): string {
  const login = `-h ${target.host} -P ${target.port} -u ${target.user || 'root'} -p`;
  return [
    `the store is ${target.redacted}: botbridge backup copies SQLite stores; back MySQL/MariaDB up with mysqldump, while botbridge runs:`,
    '',
    `  mysqldump ${login} --single-transaction --quick --routines --triggers --hex-blob --default-character-set=utf8mb4 ${target.database} > ${file}`,
    '',
    '--single-transaction reads every InnoDB table in one snapshot without locking them (botbridge keeps writing),',
    '--hex-blob and utf8mb4 keep binary values and Korean text intact. Restore: stop botbridge, then',
    '',
    `  mysql ${login} ${target.database} < ${file}`,
    '',
    'and start botbridge (docs/operations.md, "Back up and restore").',
  ].join('\n');
}

function formatBytes(bytes: number): string {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function addBackupCommand(program: Command, io: CliIo): void {
  program.command('backup')
    .description('copy the SQLite store to <file> while the server runs, and verify the copy (MySQL: prints the mysqldump command)')
    .argument('<file>', 'where to write the copy (must not exist unless --force)')
    .option('--store <url>', 'store URL (default: $BOTBRIDGE_STORE, store.url of the config, sqlite:./data/botbridge.db); must exist')
    .option('--config <file>', 'bridge config file to read store.url from (default: $BOTBRIDGE_CONFIG, else ./bridge.config.ts)')
    .option('--force', 'replace <file> if it exists')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, options: StoreOptions & { force?: boolean; json?: boolean }) => {
      const resolved = await resolveStore(options);
      const target = parseStoreUrl(resolved.url);
      const out = resolve(file);
      if (target.kind === 'mysql') throw new CliError(mysqldumpAdvice(target, file), EXIT_FAILURE);
      if (target.path === ':memory:') throw new CliError('the store is in memory (sqlite::memory:); there is nothing to back up');
      requireExistingStore(resolved);
      if (out === resolve(target.path)) throw new CliError(`${out} is the store itself; name another file`);
      if (existsSync(out) && options.force !== true) throw new CliError(`${out} already exists; name another file or pass --force`);
      if (!existsSync(dirname(out))) throw new CliError(`the folder ${dirname(out)} does not exist`);
      const summary = await backupSqlite(target.path, out);
      if (options.json === true) {
        io.out(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const counts = Object.entries(summary.rows).filter(([table]) => table !== 'botbridge_migrations').map(([table, n]) => `${table} ${n}`);
      io.out([
        `backed up sqlite:${summary.source} to ${summary.file} (${formatBytes(summary.bytes)})`,
        `integrity check: ${summary.integrity}; migrations applied: ${summary.migrations}`,
        `rows: ${counts.join(', ')}`,
        `restore: stop botbridge, remove ${target.path}-wal and ${target.path}-shm, copy ${summary.file} to ${target.path}, start botbridge`,
        '',
      ].join('\n'));
    });
}
