import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';
import { spawnLogged } from './spawn-logged.js';

/**
 * Issue 15 item 1: a service manager stops the service's main process. Under `npm start` that
 * is npm, which forwards SIGTERM to its script's process; under `npx botbridge start` it is npm
 * exec, whose script runs under `sh -c`. Either way the server must stop (port freed) and, for
 * `npm start`, npm must exit with the server's code.
 */

const root = new URL('../../', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A service folder outside the repository: the repository's own start script, a config, the bin. */
async function serviceDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'botbridge-service-'));
  const rootPackage = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'bb-service', private: true, scripts: { start: rootPackage.scripts.start } }));
  // No imports: a config outside the repository cannot resolve @botbridge/sdk.
  await writeFile(join(dir, 'bridge.config.ts'), `export default {
  listen: { host: '127.0.0.1', port: 0 },
  http: { port: 0 },
  store: { url: 'sqlite:${join(dir, 'bridge.db')}' },
  approval: { autoApprove: true },
  log: { pretty: false },
  shutdown: { graceMs: 20_000 },
  plugins: [{ name: 'slow', setup(ctx: any) { ctx.onMessage(async () => { await new Promise((r) => setTimeout(r, 20_000)); return 'late'; }); } }],
};
`);
  await mkdir(join(dir, 'node_modules/.bin'), { recursive: true });
  await symlink(join(root, 'core/bin/botbridge.js'), join(dir, 'node_modules/.bin/botbridge'));
  return dir;
}

/** The `botbridge start` node process somewhere under `pid` (npm → node, or npm → sh → node). */
function serverUnder(pid: number): number {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const under = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of table) if (under.has(p.ppid) && !under.has(p.pid)) grew = under.add(p.pid) !== undefined;
  }
  const found = table.filter((p) => under.has(p.pid) && p.pid !== pid && /node\S*\s.*botbridge\S*\s+start/.test(p.args));
  if (found.length !== 1) throw new Error(`expected one server process under ${pid}, found ${JSON.stringify(found)}; tree: ${JSON.stringify(table.filter((p) => under.has(p.pid)))}`);
  return found[0]!.pid;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// npm must not inherit the test runner's npm_* variables (they would name another project).
const cleanEnv = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('npm_')).map((k) => [k, undefined]));

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe('stopping the service main process (real process trees)', () => {
  it('SIGTERM to `npm start` stops the server: npm exits 0 once the server has, and the ports are free', { timeout: 40_000 }, async () => {
    const dir = await serviceDir();
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const npm = await spawnLogged('npm', ['start', '--silent'], { cwd: dir, env: cleanEnv });
    cleanup.push(npm.killTree);
    const httpLine = await npm.waitForLog((l) => l.msg?.startsWith('admin HTTP server listening') === true);
    const httpPort = Number(new URL(httpLine.url as string).port);
    const serverPid = serverUnder(npm.child.pid!);

    npm.child.kill('SIGTERM');
    expect(await npm.exit).toBe(0);
    expect(alive(serverPid)).toBe(false);
    expect(npm.logs.some((l) => l.msg === 'botbridge closed')).toBe(true);
    expect(await portOpen(npm.port)).toBe(false);
    expect(await portOpen(httpPort)).toBe(false);
  });

  it('a second signal during the drain forces the exit (code 1); a duplicate within 1 s is the same request', { timeout: 40_000 }, async () => {
    const dir = await serviceDir();
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const npm = await spawnLogged('npm', ['start', '--silent'], { cwd: dir, env: cleanEnv });
    cleanup.push(npm.killTree);
    const serverPid = serverUnder(npm.child.pid!);
    const phone = await FakeBridgeClient.connect({ port: npm.port });
    cleanup.push(() => phone.close());
    await phone.handshake;
    phone.analyze('오래 걸림');
    await sleep(200);

    // A terminal's Ctrl-C reaches npm and the server; npm forwards its copy: two signals at once.
    npm.child.kill('SIGINT');
    process.kill(serverPid, 'SIGINT');
    await npm.waitForLog((l) => l.msg === 'draining');
    await sleep(1_200);
    expect(alive(serverPid)).toBe(true);

    npm.child.kill('SIGTERM');
    expect(await npm.exit).toBe(1);
    expect(npm.logs.some((l) => l.msg === 'second signal: exiting now without finishing the drain')).toBe(true);
    await until('the server process to end', () => !alive(serverPid), 5_000);
    expect(await portOpen(npm.port)).toBe(false);
  });

  it('SIGTERM to `npx botbridge start` stops the server too (its shell dies; the server sees its parent gone)', { timeout: 40_000 }, async () => {
    const dir = await serviceDir();
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const npx = await spawnLogged('npx', ['--no-install', 'botbridge', 'start'], { cwd: dir, env: cleanEnv });
    cleanup.push(npx.killTree);
    const serverPid = serverUnder(npx.child.pid!);

    npx.child.kill('SIGTERM');
    await npx.exit;
    await until('the server process to end', () => !alive(serverPid));
    expect(npx.logs.find((l) => l.msg === 'shutting down'), JSON.stringify(npx.logs.slice(-6))).toMatchObject({ signal: 'parent-exited' });
    expect(npx.logs.some((l) => l.msg === 'botbridge closed')).toBe(true);
    expect(await portOpen(npx.port)).toBe(false);
  });
});
