import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { LogEntry, RunningServer } from './example-process.js';

/**
 * Spawns any command that ends up running `botbridge start` (node on the bin, `npm start`,
 * `npx botbridge start`) with JSON logs on stdout, and waits for its "listening" line. The
 * child is its own process group leader, so `killTree` can stop every process it started
 * in every outcome.
 */
export async function spawnLogged(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<RunningServer & { killTree(): void }> {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killTree = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const logs: LogEntry[] = [];
  const listeners = new Set<() => void>();
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogEntry);
    } catch {
      return; // npm's banner, not a log line
    }
    for (const listener of [...listeners]) listener();
  });
  const waitForLog: RunningServer['waitForLog'] = (match, opts = {}) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = logs.slice(opts.from ?? 0).find(match);
        if (found === undefined) return false;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(found);
        return true;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`no matching log line within ${opts.timeoutMs ?? 10_000} ms; stderr: ${stderr}; last lines: ${JSON.stringify(logs.slice(-5))}`));
      }, opts.timeoutMs ?? 10_000);
      if (!check()) listeners.add(listener);
    });
  const listening = waitForLog((entry) => entry.msg === 'botbridge listening', { timeoutMs: 20_000 });
  const early = exit.then((code) => Promise.reject(new Error(`exited with ${code} before listening; stderr: ${stderr}`)));
  early.catch(() => undefined);
  listening.catch(() => undefined);
  try {
    const entry = await Promise.race([listening, early]);
    return { child, port: entry.port as number, logs, exit, waitForLog, killTree };
  } catch (error) {
    killTree();
    throw error;
  }
}
