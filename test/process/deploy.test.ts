import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';
import { duplicateKeys } from '../e2e/duplicate-keys.js';
import { followServer, type RunningServer } from './example-process.js';

/**
 * deploy/botbridge.service and deploy/Dockerfile, run the way systemd and a container runtime
 * run them (this machine has neither): the command line, working directory and environment are
 * read from the files themselves, the install folder (/opt/botbridge) is this checkout, and the
 * stop is SIGTERM to the main process alone. The server must stop, free its ports and exit 0.
 */

const root = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
const INSTALL = '/opt/botbridge';
/** systemd's and the node image's PATH; neither inherits the caller's environment. */
const SERVICE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Splits a command line as systemd does for ExecStart (whitespace, double or single quotes). */
function splitCommand(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) words.push(match[1] ?? match[2] ?? match[3]!);
  return words;
}

/** The [Service] section of a unit file: key → values (a key may repeat, e.g. Environment). */
function serviceSection(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (section !== 'Service' || eq < 0) continue;
    const key = line.slice(0, eq).trim();
    keys.set(key, [...(keys.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return keys;
}

/** `KEY=value` lines of an EnvironmentFile or `Environment=` value. */
function parseEnvLines(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** The Dockerfile's instructions of its last stage (the image that runs), continuation lines joined. */
function finalStage(text: string): { instruction: string; args: string }[] {
  const joined = text.replace(/\\\n/g, ' ');
  let stage: { instruction: string; args: string }[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const instruction = m[1]!.toUpperCase();
    if (instruction === 'FROM') stage = [];
    stage.push({ instruction, args: m[2]! });
  }
  return stage;
}

/** An install path of the unit or image, on this machine: the checkout stands in for /opt/botbridge. */
function local(path: string): string {
  if (path === 'node' || path === '/usr/bin/node') return process.execPath;
  return path.startsWith(INSTALL) ? root + path.slice(INSTALL.length) : path;
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

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<number> {
  return new Promise((resolve) => {
    execFile(command, args, { ...options, timeout: 15_000 }, (error) => resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : -1));
  });
}

/** `systemd-analyze verify` lints a unit without a running systemd (present on this machine, maybe not elsewhere). */
const hasSystemdAnalyze = await run('systemd-analyze', ['--version'], { cwd: tmpdir(), env: process.env }).then((code) => code === 0);

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'botbridge-deploy-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a command as its own process group (so the cleanup can SIGKILL all of it, in every outcome). */
async function startService(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunningServer & { raw: () => string }> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let raw = '';
  child.stdout.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  cleanup.push(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return { ...(await followServer(child)), raw: () => raw };
}

/** SIGTERM to the main process only (systemd KillMode=mixed, docker stop), then the checks every manager relies on. */
async function stopAndCheck(server: RunningServer, httpPort: number): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exit).toBe(0);
  expect(server.logs.some((l) => l.msg === 'botbridge closed')).toBe(true);
  expect(await portOpen(server.port)).toBe(false);
  expect(await portOpen(httpPort)).toBe(false);
}

describe('deploy/', { timeout: 60_000 }, () => {
  it.skipIf(!hasSystemdAnalyze)('botbridge.service passes `systemd-analyze verify` without a warning', async () => {
    // verify checks that ExecStart's program exists: node's path on this machine stands in for /usr/bin/node.
    const copy = join(await tempDir(), 'botbridge.service');
    await writeFile(copy, readFileSync(join(root, 'deploy/botbridge.service'), 'utf8').replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('systemd-analyze', ['verify', copy], { timeout: 30_000 }, (error, _stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr });
      });
    });
    expect(result).toEqual({ code: 0, stderr: '' });
  });

  it('botbridge.service: ExecStart in WorkingDirectory with the EnvironmentFile starts the repository profile; SIGTERM stops it with 0', async () => {
    const unit = serviceSection(readFileSync(join(root, 'deploy/botbridge.service'), 'utf8'));
    expect(unit.get('Type')).toEqual(['simple']);
    expect(unit.get('KillSignal')).toEqual(['SIGTERM']);
    // Longer than the drain bound (graceMs 10 s + 2 × flushMs 2 s), so systemd never SIGKILLs a clean stop.
    expect(Number(unit.get('TimeoutStopSec')![0])).toBeGreaterThan(14);

    const hostDir = await tempDir();
    // What an operator writes into /etc/botbridge/env: this host's ports, store and token file.
    const tokenFile = join(hostDir, 'admin-token');
    await writeFile(tokenFile, 'deploy-test-token-0123456789\n');
    chmodSync(tokenFile, 0o600);
    const envFile = join(hostDir, 'env');
    await writeFile(envFile, [
      '# per-host settings',
      'BOTBRIDGE_HOST=127.0.0.1',
      'BOTBRIDGE_PORT=0',
      'BOTBRIDGE_HTTP_PORT=0',
      `BOTBRIDGE_STORE=sqlite:${join(hostDir, 'botbridge.db')}`,
      `BOTBRIDGE_ADMIN_TOKEN_FILE=${tokenFile}`,
      '',
    ].join('\n'));

    let env: NodeJS.ProcessEnv = { PATH: SERVICE_PATH, LANG: 'C.UTF-8', HOME: hostDir };
    for (const value of unit.get('EnvironmentFile') ?? []) {
      const optional = value.startsWith('-');
      const path = value.replace(/^-/, '');
      expect(path).toBe('/etc/botbridge/env');
      expect(optional).toBe(true);
      env = { ...env, ...parseEnvLines(readFileSync(envFile, 'utf8')) };
    }
    for (const value of unit.get('Environment') ?? []) env = { ...env, ...parseEnvLines(splitCommand(value).join('\n')) };
    const exec = unit.get('ExecStart')!;
    expect(exec).toHaveLength(1);
    const argv = splitCommand(exec[0]!.replace(/^[-@:+!]+/, '')).map(local);
    expect(argv[0]).toBe(process.execPath);
    const cwd = local(unit.get('WorkingDirectory')![0]!);

    const server = await startService(argv, cwd, env);
    const listening = server.logs.find((l) => l.msg === 'botbridge listening')!;
    expect(listening).toMatchObject({ plugins: ['commands', 'chat-log'], store: `sqlite:${join(hostDir, 'botbridge.db')}` });
    const http = await server.waitForLog((l) => l.msg === 'admin HTTP server listening; sign in with the configured admin token');
    expect(server.logs.some((l) => l.msg === 'the admin token file is readable by other users; chmod 600 it')).toBe(false);
    const httpPort = Number(new URL(http.url as string).port);
    const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
    expect(health.status).toBe(200);
    const metrics = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { headers: { authorization: 'Bearer deploy-test-token-0123456789' } });
    expect(metrics.status).toBe(200);
    // A phone of a pending device: the log lines that tell the operator what to approve.
    const phone = await FakeBridgeClient.connect({ port: server.port, deviceId: 'deploy-test-0001' });
    await phone.handshake;
    await server.waitForLog((l) => l.msg === 'client connected' && typeof l.approve === 'string');
    await phone.close();
    await stopAndCheck(server, httpPort);
    // JSON lines a collector parses as they are: one object a line, each key once.
    const lines = server.raw().trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(duplicateKeys(line), line).toEqual([]);
  });

  it('botbridge.service with a malformed value in its EnvironmentFile: exit 1, the variable named, nothing listening', async () => {
    const unit = serviceSection(readFileSync(join(root, 'deploy/botbridge.service'), 'utf8'));
    const argv = splitCommand(unit.get('ExecStart')![0]!).map(local);
    const hostDir = await tempDir();
    const env = { PATH: SERVICE_PATH, HOME: hostDir, BOTBRIDGE_PORT: '0', BOTBRIDGE_LOG_LEVEL: 'verbose', BOTBRIDGE_STORE: `sqlite:${join(hostDir, 'botbridge.db')}` };
    const child = spawn(argv[0]!, argv.slice(1), { cwd: local(unit.get('WorkingDirectory')![0]!), env, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise<number | null>((resolve) => child.on('exit', resolve))).toBe(1);
    expect(stderr).toBe('botbridge: invalid environment variable BOTBRIDGE_LOG_LEVEL: "verbose": expected one of trace, debug, info, warn, error, fatal, silent (BRIDGE_ERR_CONFIG_ENV)\n');
    expect(existsSync(join(hostDir, 'botbridge.db'))).toBe(false);
  });

  it('Dockerfile: ENTRYPOINT + CMD in WORKDIR with the image ENV; without a token the start fails closed, with one it runs and SIGTERM stops it with 0', async () => {
    const stage = finalStage(readFileSync(join(root, 'deploy/Dockerfile'), 'utf8'));
    const last = (instruction: string) => stage.filter((s) => s.instruction === instruction).at(-1)?.args;
    const entrypoint = JSON.parse(last('ENTRYPOINT')!) as string[];
    const cmd = JSON.parse(last('CMD')!) as string[];
    const workdir = local(last('WORKDIR')!);
    const imageEnv: Record<string, string> = {};
    for (const { args } of stage.filter((s) => s.instruction === 'ENV')) Object.assign(imageEnv, parseEnvLines(args.split(/\s+(?=[A-Za-z_][A-Za-z0-9_]*=)/).join('\n')));
    expect(imageEnv.BOTBRIDGE_HTTP_HOST).toBe('0.0.0.0');
    const argv = [...entrypoint, ...cmd].map(local);

    const hostDir = await tempDir();
    // `docker run -e …` (the data volume is a temp folder here).
    const runEnv = {
      PATH: SERVICE_PATH,
      HOME: hostDir,
      HOSTNAME: 'botbridge-test',
      ...imageEnv,
      BOTBRIDGE_HOST: '127.0.0.1',
      BOTBRIDGE_PORT: '0',
      BOTBRIDGE_HTTP_PORT: '0',
      BOTBRIDGE_STORE: `sqlite:${join(hostDir, 'botbridge.db')}`,
    };

    // No token: the dashboard would listen on every interface unprotected, so the start is refused.
    const refused = spawn(argv[0]!, argv.slice(1), { cwd: workdir, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => void refused.kill('SIGKILL'));
    let output = '';
    refused.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    refused.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const refusedCode = await new Promise<number | null>((resolve) => refused.on('exit', resolve));
    expect(refusedCode).toBe(1);
    expect(output).toContain('BRIDGE_ERR_HTTP_NO_TOKEN');

    // A mounted secret (Docker's are mode 0444): used, with a warning that others can read it.
    const secret = join(hostDir, 'admin-token');
    await writeFile(secret, 'container-token-0123456789\n');
    chmodSync(secret, 0o444);
    const server = await startService(argv, workdir, { ...runEnv, BOTBRIDGE_ADMIN_TOKEN_FILE: secret });
    const http = await server.waitForLog((l) => l.msg === 'admin HTTP server listening; sign in with the configured admin token');
    expect(server.logs.find((l) => l.msg === 'the admin token file is readable by other users; chmod 600 it')).toMatchObject({ file: secret, mode: '444' });
    expect(server.raw()).not.toContain('container-token-0123456789');
    const httpPort = Number(new URL(http.url as string).port);
    // The image's HEALTHCHECK command, as the runtime runs it (shell form: /bin/sh -c).
    const healthcheck = last('HEALTHCHECK')!.replace(/^(--\S+\s+)*CMD\s+/, '');
    expect(await run('/bin/sh', ['-c', healthcheck.replace(/^node /, `${JSON.stringify(process.execPath)} `)], { cwd: workdir, env: { ...runEnv, BOTBRIDGE_HTTP_PORT: String(httpPort) } })).toBe(0);
    await stopAndCheck(server, httpPort);
    // …and the healthcheck fails once it is down.
    expect(await run('/bin/sh', ['-c', healthcheck.replace(/^node /, `${JSON.stringify(process.execPath)} `)], { cwd: workdir, env: { ...runEnv, BOTBRIDGE_HTTP_PORT: String(httpPort) } })).toBe(1);
  });
});
