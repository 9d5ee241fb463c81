import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';

/** `botbridge start` with its admin HTTP server, as a real process. */

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'core/bin/botbridge.js');

interface Running {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exit: Promise<number | null>;
  readonly stderr: () => string;
}

function run(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [bin, 'start', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BOTBRIDGE_ADMIN_TOKEN: '', ...env } });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exit, stderr: () => stderr };
}

/** The log entry whose msg starts with `prefix`, within 15 s. */
async function logEntry(running: Running, prefix: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    for (const line of running.lines) {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (typeof entry.msg === 'string' && entry.msg.startsWith(prefix)) return entry;
      } catch {
        // not a log line
      }
    }
    if (Date.now() > deadline) throw new Error(`no "${prefix}" log line within 15 s; stderr: ${running.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function tempStore(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'botbridge-admin-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'bridge.db')}`;
}

describe('botbridge start with the admin HTTP server', () => {
  it('without a configured token, logs a one-time dashboard URL that carries a working token; SIGTERM still exits 0', async () => {
    const running = run(['--config', 'test/fixtures/shutdown.config.ts', '--port', '0', '--http-port', '0', '--store', await tempStore()]);
    cleanup.push(async () => void running.child.kill('SIGKILL'));
    const entry = await logEntry(running, 'admin HTTP server listening');
    expect(entry.level).toBe(40);
    const dashboard = String(entry.dashboard);
    const token = decodeURIComponent(/#token=(.+)$/.exec(dashboard)![1]!);
    const base = String(entry.url);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/api/clients`)).status).toBe(401);
    const clients = await fetch(`${base}/api/clients`, { headers: { authorization: `Bearer ${token}` } });
    expect(clients.status).toBe(200);
    expect(await clients.json()).toEqual([]);
    // The one deliberate copy: no other log line carries the token.
    expect(running.lines.filter((line) => line.includes(token))).toHaveLength(1);

    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(0);
  });

  it('takes the token from BOTBRIDGE_ADMIN_TOKEN and never logs it', async () => {
    const token = 'env-admin-token-0123456789abcdef';
    const running = run(['--config', 'test/fixtures/shutdown.config.ts', '--port', '0', '--http-port', '0', '--store', await tempStore()], { BOTBRIDGE_ADMIN_TOKEN: token });
    cleanup.push(async () => void running.child.kill('SIGKILL'));
    const entry = await logEntry(running, 'admin HTTP server listening');
    const base = String(entry.url);
    expect(String(entry.dashboard)).toBe(`${base}/`);
    expect((await fetch(`${base}/api/stats`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(0);
    expect(running.lines.join('\n')).not.toContain(token);
  });

  it('refuses to start on a non-loopback address without a token, before opening the store', async () => {
    const running = run(['--config', 'test/fixtures/public-http.config.ts', '--port', '0', '--store', await tempStore()]);
    cleanup.push(async () => void running.child.kill('SIGKILL'));
    expect(await running.exit).not.toBe(0);
    expect(running.stderr() + running.lines.join('\n')).toContain('BRIDGE_ERR_HTTP_NO_TOKEN');
    expect(running.lines.some((line) => line.includes('botbridge listening'))).toBe(false);
  });

  it('runs without the admin server when asked (--no-http)', async () => {
    const running = run(['--config', 'test/fixtures/shutdown.config.ts', '--port', '0', '--no-http', '--store', await tempStore()]);
    cleanup.push(async () => void running.child.kill('SIGKILL'));
    await logEntry(running, 'botbridge listening');
    expect(running.lines.some((line) => line.includes('admin HTTP server'))).toBe(false);
    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(0);
  });
});
