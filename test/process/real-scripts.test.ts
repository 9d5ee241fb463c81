import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startExample } from './example-process.js';

/**
 * The real bridge scripts, unmodified, under desktop Rhino (the bridge harness, which reads each
 * script at run time with `git show` and never copies it), against `botbridge start`: the current
 * v3.3.3 script and a v3.2.2 script on the same server at once. A verification for a machine that
 * has the harness, rhino and a clone of the public scripts' repository (wangtae/domaeka); CI has
 * none of them, so the test is skipped there with the reason. Set BRIDGE_HARNESS_DIR (default
 * ../shared/bridge-harness) and BRIDGE_GIT_DIR (the clone's git directory).
 */

const root = new URL('../../', import.meta.url).pathname;
const harnessDir = process.env.BRIDGE_HARNESS_DIR ?? resolve(root, '../shared/bridge-harness');
const gitDir = process.env.BRIDGE_GIT_DIR ?? '/work/.mirror/wangtae+domaeka/repo';
const SCRIPTS = ['HEAD:client/messengerbotR/bridge.js', 'HEAD:client/messengerbotR/old/bridge-v3.2.2.js'];

function unavailable(): string | null {
  if (!existsSync(join(harnessDir, 'run.mjs'))) return `no bridge harness at ${harnessDir} (set BRIDGE_HARNESS_DIR)`;
  if (spawnSync('rhino', ['-e', 'quit()'], { timeout: 20_000 }).status !== 0) return 'rhino is not installed (apt-get install rhino)';
  for (const script of SCRIPTS) {
    if (spawnSync('git', ['--git-dir', gitDir, 'cat-file', '-e', script], { timeout: 10_000 }).status !== 0) {
      return `script ${script} not found in ${gitDir} (set BRIDGE_GIT_DIR to a clone of wangtae/domaeka)`;
    }
  }
  return null;
}

const reason = unavailable();
if (reason !== null) console.warn(`real bridge scripts test skipped: ${reason}`);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

/** One harness self-test: connect, `# echo hello` → `에코: hello`, one ping answered. Resolves its output line. */
function selfTest(port: number, device: string, script: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(harnessDir, 'run.mjs'), '--port', String(port), '--device', device, '--script', script, '--git-dir', gitDir, '--expect', '^에코: hello$'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    cleanup.push(async () => void child.kill('SIGKILL'));
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, out, err });
    });
  });
}

describe.skipIf(reason !== null)('the real bridge scripts against botbridge', () => {
  it('v3.3.3 and v3.2.2 on one server: approved, echo answered, a server ping answered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'botbridge-real-scripts-'));
    const server = await startExample('examples/domaeka', ['--port', '0', '--no-http', '--store', `sqlite:${join(dir, 'bridge.db')}`, '--auto-approve']);
    cleanup.push(async () => {
      server.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    const results = await Promise.all(SCRIPTS.map((script, i) => selfTest(server.port, `real-script-${i}`, script)));
    for (const result of results) {
      expect(result.out, result.err.slice(-2_000)).toMatch(/^PASS .*handshake=approved reply="에코: hello".*ping=answered/m);
      expect(result.code).toBe(0);
    }
    const connected = server.logs.filter((entry) => entry.msg === 'client connected').map((entry) => entry.protocol);
    expect(connected.sort()).toEqual(['v3.2', 'v3.3']);
  }, 120_000);
});
