import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { InsertCompiler, type InsertRows } from './sqlite-statements.js';

const WORKER_URL = new URL('./sqlite-write-worker.mjs', import.meta.url);
const CLOSE_TIMEOUT_MS = 10_000;

interface Pending {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

type WorkerReply =
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'failed'; readonly id: number; readonly error: { name: string; message: string; code?: string } }
  | { readonly type: 'closed' };

/**
 * Chat-log, ping and system rows of a SQLite file store are written by a worker thread with its
 * own connection to the file (WAL lets it write while the main thread reads), so the inserts,
 * their COMMIT and the WAL checkpoints they trigger (fsync, tens of ms) stay off the event loop.
 * The main thread compiles the INSERTs with Kysely (InsertCompiler) and sends the SQL with each
 * batch's values; the thread runs a batch as one IMMEDIATE transaction of prepared INSERTs and
 * answers once it is committed, or with the SQLite error (its `code` kept, so the store's error
 * classification and the batch writer's retries work as on the main thread).
 *
 * The thread starts once the store is migrated (or with the first write). If it dies, the writes it had are rejected (as
 * retryable: the batch writer keeps the rows and retries) and the next write starts a new one.
 * It keeps the process alive only while a write is in flight; `close()` waits for the writes
 * sent before it and closes the connection.
 */
export class SqliteWriterThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    /** Set on the thread's connection, as on the main one (`sqlitePragmas` in sqlite.ts). */
    private readonly pragmas: readonly string[],
  ) {}

  /**
   * Starts the thread now rather than at the first write (the store calls it once migrated), so
   * its memory is part of the server's start-up footprint, not of whatever comes first later.
   */
  warm(): void {
    if (this.worker === undefined && this.closing === undefined) this.start();
  }

  write(groups: readonly { sql: string; rows: unknown[][] }[]): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the SQLite writer thread is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ type: 'write', id, groups });
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Messages are handled in order: the writes sent before this finish first.
    worker.postMessage({ type: 'close' });
    const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private start(): Worker {
    const worker = new Worker(WORKER_URL, { workerData: { path: this.path, pragmas: this.pragmas } });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'closed') return;
      const pending = this.pending.get(reply.id);
      if (pending === undefined) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.type === 'done') pending.resolve();
      else pending.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, code: reply.error.code }));
    });
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`the SQLite writer thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  /** The thread is gone: what it had is rejected (retryable, no SQLite code); the next write starts another. */
  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const reason = new Error(`SQLite writer thread failed: ${error.message}`, { cause: error });
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(reason);
  }
}

/** InsertRows through the writer thread: one message (one transaction) per batch. */
export function sqliteThreadInsertRows(db: Kysely<Database>, writer: SqliteWriterThread): InsertRows {
  const compiler = new InsertCompiler(db);
  return async (table, values) => {
    if (values.length === 0) return;
    const groups = compiler.group(table, values).map((group) => ({ sql: group.insert.sql, rows: group.rows }));
    await writer.write(groups);
  };
}
