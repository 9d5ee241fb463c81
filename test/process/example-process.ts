import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'core/bin/botbridge.js');

export type LogEntry = Record<string, unknown> & { msg?: string };

/** `botbridge start` run as a real process, with its JSON log lines as they come. */
export interface RunningServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly logs: LogEntry[];
  readonly exit: Promise<number | null>;
  /** The first line at or after `from` (an index into `logs`) that matches; rejects after `timeoutMs`. */
  waitForLog(match: (entry: LogEntry) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<LogEntry>;
}

/**
 * Starts `botbridge start --config bridge.config.ts` in an example's folder (what its `npm start`
 * runs) with extra flags, and waits for the "listening" line. stdout is not a terminal, so the
 * logs are JSON lines.
 */
export async function startExample(dir: string, args: string[], env: Record<string, string> = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [bin, 'start', '--config', 'bridge.config.ts', ...args], {
    cwd: join(root, dir),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return followServer(child);
}

/**
 * Follows a spawned process that ends up running `botbridge start` with JSON logs on stdout:
 * collects its log lines (other lines, e.g. npm's banner, are skipped) and resolves once it logs
 * "botbridge listening", or rejects if it exits first.
 */
export async function followServer(child: ChildProcess): Promise<RunningServer> {
  const logs: LogEntry[] = [];
  const listeners = new Set<() => void>();
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogEntry);
    } catch {
      return; // not a log line (e.g. npm's banner)
    }
    for (const listener of [...listeners]) listener();
  });

  const waitForLog: RunningServer['waitForLog'] = (match, options = {}) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = logs.slice(options.from ?? 0).find(match);
        if (found === undefined) return false;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(found);
        return true;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`no matching log line within ${options.timeoutMs ?? 10_000} ms; stderr: ${stderr}; last lines: ${JSON.stringify(logs.slice(-5))}`));
      }, options.timeoutMs ?? 10_000);
      if (!check()) listeners.add(listener);
    });

  const listening = waitForLog((entry) => entry.msg === 'botbridge listening', { timeoutMs: 20_000 });
  const early = exit.then((code) => Promise.reject(new Error(`exited with ${code} before listening; stderr: ${stderr}`)));
  // Once listening, a later exit is the test's business, not a failure of this start.
  early.catch(() => undefined);
  listening.catch(() => undefined);
  const entry = await Promise.race([listening, early]);
  return { child, port: entry.port as number, logs, exit, waitForLog };
}
