import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'core/bin/botbridge.js');

interface Started {
  readonly child: ChildProcess;
  readonly port: number;
  readonly logs: Record<string, unknown>[];
  readonly exit: Promise<number | null>;
}

/** Starts `botbridge start` as a real process and waits for its "listening" log line. */
async function startProcess(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [bin, 'start', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 15 s; stderr: ${stderr}`)), 15_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'botbridge listening') {
          clearTimeout(timer);
          resolve(entry.port as number);
        }
      } catch {
        // not a log line
      }
    });
    void exit.then((code) => reject(new Error(`exited with ${code} before listening; stderr: ${stderr}`)));
  });
  return { child, port, logs, exit };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe('botbridge start (a real process)', () => {
  it('on SIGTERM stops accepting, finishes in-flight work, flushes, closes the store and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'botbridge-shutdown-'));
    const dbFile = join(dir, 'bridge.db');
    const server = await startProcess(['--config', 'test/fixtures/shutdown.config.ts', '--port', '0', '--store', `sqlite:${dbFile}`, '--auto-approve']);
    cleanup.push(async () => {
      server.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    const phone = await FakeBridgeClient.connect({ port: server.port });
    cleanup.push(() => phone.close());
    await phone.handshake;
    phone.analyze('진행 중');
    await new Promise((resolve) => setTimeout(resolve, 150));
    server.child.kill('SIGTERM');

    const reply = await phone.nextReply(5_000);
    expect(reply.text).toBe('느린 답: 진행 중');
    await phone.closed;
    expect(await server.exit).toBe(0);

    // New connections are refused once shutdown began (the listener is gone).
    await expect(FakeBridgeClient.connect({ port: server.port })).rejects.toThrow();

    // The chat log row written during shutdown is in the file, and the file is closed cleanly.
    const db = new Database(dbFile, { readonly: true });
    const rows = db.prepare('select message, bot_name from kb_chat_logs').all() as { message: string }[];
    db.close();
    expect(rows.map((r) => r.message)).toContain('진행 중');
    expect(server.logs.some((l) => l.msg === 'botbridge closed')).toBe(true);
  });

  it('on SIGTERM every log line, up to the last, is in the log file (lines are written asynchronously)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'botbridge-shutdown-log-'));
    const logFile = join(dir, 'server.log');
    const out = openSync(logFile, 'w');
    const child = spawn(process.execPath, [bin, 'start', '--config', 'test/fixtures/shutdown.config.ts', '--port', '0', '--store', `sqlite:${join(dir, 'bridge.db')}`, '--auto-approve'], {
      cwd: root, stdio: ['ignore', out, 'pipe'],
    });
    closeSync(out);
    cleanup.push(async () => {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const logLines = () => readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    let port: number | undefined;
    for (let i = 0; i < 300 && port === undefined; i += 1) {
      port = logLines().find((l) => l.msg === 'botbridge listening')?.port as number | undefined;
      if (port === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(port).toBeTypeOf('number');
    const phone = await FakeBridgeClient.connect({ port: port! });
    cleanup.push(() => phone.close());
    await phone.handshake;
    phone.analyze('진행 중');
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill('SIGTERM');
    await phone.nextReply(5_000);
    expect(await exit).toBe(0);

    // Every line parses (none cut off), and the shutdown's lines are there, the last ones included.
    expect(readFileSync(logFile, 'utf8').endsWith('\n')).toBe(true);
    const messages = logLines().map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['shutting down', 'client disconnected', 'botbridge closed']));
    expect(messages.indexOf('botbridge closed')).toBeGreaterThan(messages.indexOf('shutting down'));
  });

  it('follows the README: a pending phone, approved with the CLI while running, gets 에코 and its pings are stored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'botbridge-readme-'));
    const store = `sqlite:${join(dir, 'bridge.db')}`;
    const server = await startProcess(['--config', 'test/fixtures/domaeka-fast-ping.config.ts', '--port', '0', '--store', store]);
    cleanup.push(async () => {
      server.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    const phone = await FakeBridgeClient.connect({ port: server.port, botName: 'LOA.i', deviceId: 'a1b2c3d4e5f60718' });
    cleanup.push(() => phone.close());
    expect(await phone.handshake).toMatchObject({ success: true, approved: false, message: '디바이스가 승인 대기 상태로 등록되었습니다' });
    await phone.shouldNotReply('# echo hello', { quietMs: 400 });

    const cli = (...args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, ...args, '--store', store], { cwd: root });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    expect((await cli('devices', 'list')).out).toMatch(/LOA\.i\s+a1b2c3d4e5f60718\s+pending/);
    expect((await cli('devices', 'approve', 'LOA.i', 'a1b2c3d4e5f60718')).code).toBe(0);
    expect((await cli('rooms', 'approve', 'LOA.i', '18445682959392711')).code).toBe(0);

    // Live, without a reconnect: poll until the approvals have been picked up.
    let answered = false;
    for (let i = 0; i < 20 && !answered; i += 1) {
      phone.analyze('# echo hello');
      answered = await phone.nextReply(500).then((r) => r.text === '에코: hello', () => false);
    }
    expect(answered).toBe(true);

    await phone.nextPacket('ping', 3_000);
    await new Promise((resolve) => setTimeout(resolve, 400));
    server.child.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    const db = new Database(join(dir, 'bridge.db'), { readonly: true });
    const pings = db.prepare('select bot_name, device_id, client_ip, ping_time_ms from kb_ping_monitor').all() as Record<string, unknown>[];
    db.close();
    expect(pings.length).toBeGreaterThan(0);
    expect(pings[0]).toMatchObject({ bot_name: 'LOA.i', device_id: 'a1b2c3d4e5f60718', client_ip: '127.0.0.1' });
    expect(pings[0]!.ping_time_ms).toBeGreaterThanOrEqual(0);
  });

  it('fails to start with a clear message when the config is invalid', async () => {
    const child = spawn(process.execPath, [bin, 'start', '--config', 'test/fixtures/missing.config.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain('BRIDGE_ERR_CONFIG_LOAD');
  });
});
