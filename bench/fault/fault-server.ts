import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'core/bin/botbridge.js');
export const FAULT_CONFIG = join(ROOT, 'bench/fault/fault.config.ts');
const START_TIMEOUT_MS = 30_000;
const KEPT_LINES = 300;

export type LogEntry = Record<string, unknown> & { msg?: string; level?: number };

export interface ServerOptions {
  /** `sqlite:/path` or `mysql://…`. */
  readonly storeUrl: string;
  /** FAULT_* variables for bench/fault/fault.config.ts. */
  readonly env: Readonly<Record<string, string>>;
  /** Every stdout/stderr line of the process is appended here (the evidence). */
  readonly logFile: string;
  /** A fixed port (restarts listen where the phones reconnect); default: the config's port 0. */
  readonly port?: number;
  /** More `botbridge start` arguments (`--cluster URL --node-id ID` for the cluster scenario). */
  readonly args?: readonly string[];
}

/** Every server this process started and has not seen exit: killed by PID if the suite dies. */
const live = new Set<ChildProcess>();
const killAll = () => {
  for (const child of live) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
};
process.once('exit', killAll);

/**
 * `botbridge start` as operators run it (`node core/bin/botbridge.js start --config …`), a real
 * process signalled by its PID. Keeps what the checks need from its JSON log: close reasons of
 * phones, warn/error lines, the listening ports; the whole log goes to `logFile`.
 */
export class FaultServer {
  readonly disconnects = new Map<string, number>();
  readonly problems: LogEntry[] = [];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port = 0;
  metricsUrl: string | null = null;
  readonly startedAt = performance.now();
  exitedAt: number | null = null;

  private constructor(
    readonly child: ChildProcess,
    private readonly log: WriteStream,
    private readonly token: string,
  ) {
    live.add(child);
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.exitedAt = performance.now();
      live.delete(child);
      resolve({ code, signal });
    }));
  }

  static async start(options: ServerOptions): Promise<FaultServer> {
    const token = `fault-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    const child = spawn(process.execPath, [BIN, 'start', '--config', FAULT_CONFIG, '--store', options.storeUrl, ...(options.port === undefined ? [] : ['--port', String(options.port)]), ...(options.args ?? [])], {
      cwd: ROOT,
      env: { ...process.env, ...options.env, BOTBRIDGE_ADMIN_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(options.logFile, { flags: 'a' });
    const server = new FaultServer(child, log, token);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      log.write(chunk);
    });
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`botbridge did not listen within ${START_TIMEOUT_MS} ms; stderr: ${stderr.slice(-2000)}`)), START_TIMEOUT_MS);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        log.write(`${line}\n`);
        const entry = server.onLine(line);
        if (entry?.msg === 'botbridge listening') {
          clearTimeout(timer);
          server.port = entry.port as number;
          resolve();
        }
      });
      void server.exit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`botbridge exited (${code ?? signal}) before listening; stderr: ${stderr.slice(-2000)}`));
      });
    });
    try {
      await listening;
    } catch (error) {
      await server.kill();
      throw error;
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Signals the process by its PID (never by name). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, signal);
  }

  /** SIGKILL and wait for the exit; safe in every outcome (cleanup path). */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exit;
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  /** SIGTERM, then SIGKILL after `boundMs`; resolves with the exit. */
  async terminate(boundMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
    this.signal('SIGTERM');
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      this.signal('SIGKILL');
    }, boundMs);
    const exit = await this.exit;
    clearTimeout(timer);
    await new Promise<void>((resolve) => this.log.end(resolve));
    return { ...exit, forced };
  }

  /** The bridge's counters from /metrics (`name{labels}` → value); null when it cannot be read. */
  async metrics(): Promise<Record<string, number> | null> {
    if (this.metricsUrl === null || !this.running) return null;
    try {
      const res = await fetch(this.metricsUrl, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(5_000) });
      if (!res.ok) return null;
      const out: Record<string, number> = {};
      for (const line of (await res.text()).split('\n')) {
        if (!line.startsWith('botbridge_') || line.includes('_bucket{')) continue;
        const at = line.lastIndexOf(' ');
        out[line.slice(0, at)] = Number(line.slice(at + 1));
      }
      return out;
    } catch {
      return null;
    }
  }

  /** GET an admin path: the HTTP status, or the connection error's code (`ECONNREFUSED`, …). */
  async probe(path: string): Promise<string> {
    if (this.metricsUrl === null) return 'no-http';
    try {
      const res = await fetch(this.metricsUrl.replace(/\/metrics$/, path), { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return String(res.status);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      return cause?.code ?? (error as Error).name;
    }
  }

  disconnectCount(): number {
    let n = 0;
    for (const count of this.disconnects.values()) n += count;
    return n;
  }

  private onLine(line: string): LogEntry | null {
    let entry: LogEntry;
    try {
      entry = JSON.parse(line) as LogEntry;
    } catch {
      return null;
    }
    if (entry.msg === 'client disconnected') {
      const reason = String(entry.reason);
      this.disconnects.set(reason, (this.disconnects.get(reason) ?? 0) + 1);
    } else if (typeof entry.msg === 'string' && entry.msg.startsWith('admin HTTP server listening')) {
      this.metricsUrl = `${String(entry.url).replace(/\/$/, '')}/metrics`;
    }
    // Auto-approve is how the suite runs (fresh devices and rooms); its warnings are not findings.
    const noise = typeof entry.msg === 'string' && entry.msg.startsWith('AUTO-APPROVE');
    if ((entry.level ?? 0) >= 40 && !noise && this.problems.length < KEPT_LINES) this.problems.push(entry);
    return entry;
  }
}

/** Groups warn/error log lines by message (with one example each) for a report. */
export function summarizeProblems(entries: readonly LogEntry[]): { msg: string; count: number; example: LogEntry }[] {
  const byMsg = new Map<string, { msg: string; count: number; example: LogEntry }>();
  for (const entry of entries) {
    const msg = String(entry.msg);
    const seen = byMsg.get(msg);
    if (seen) seen.count += 1;
    else byMsg.set(msg, { msg, count: 1, example: entry });
  }
  return [...byMsg.values()];
}
