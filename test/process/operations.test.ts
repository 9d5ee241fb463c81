import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';

/** The backup commands docs/operations.md documents, run against a running server's WAL store. */

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'core/bin/botbridge.js');

function sqlite3(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sqlite3', args, { cwd, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** The test's environment without BOTBRIDGE_STORE: the config's folder decides the store. */
function withoutStoreEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.BOTBRIDGE_STORE;
  return env;
}

const hasSqlite3 = await sqlite3(['-version'], tmpdir()).then((r) => r.code === 0);
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('operations', { timeout: 90_000 }, () => {
  it.skipIf(!hasSqlite3)('.backup and VACUUM INTO copy the store consistently while the server runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'botbridge-ops-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'bridge.config.ts'), "export default { listen: { host: '127.0.0.1', port: 0 }, http: { enabled: false } };\n");
    mkdirSync(join(dir, 'backups'));
    const child = spawn(process.execPath, [bin, 'start'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: withoutStoreEnv() });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not listening; stderr: ${stderr}`)), 30_000);
        void exited.then((code) => reject(new Error(`exited with ${code}; stderr: ${stderr}`)));
        createInterface({ input: child.stdout }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'botbridge listening') {
            clearTimeout(timer);
            resolve(entry.port!);
          }
        });
      });
      // A write the server made and holds in its WAL: the device row of this handshake.
      const phone = await FakeBridgeClient.connect({ port, deviceId: 'backup-test-01' });
      await phone.close();

      const dated = '$(date +%F)'; // as documented; the shell expands it
      const backup = await new Promise<number>((resolve) => {
        execFile('sh', ['-c', `sqlite3 data/botbridge.db ".backup 'backups/botbridge-${dated}.db'" && sqlite3 data/botbridge.db "VACUUM INTO 'backups/vacuum-${dated}.db'"`],
          { cwd: dir, timeout: 20_000 }, (error) => resolve(error === null ? 0 : 1));
      });
      expect(backup).toBe(0);
      const today = new Date().toISOString().slice(0, 10);
      for (const file of [`botbridge-${today}.db`, `vacuum-${today}.db`]) {
        const check = await sqlite3([join('backups', file), 'PRAGMA integrity_check'], dir);
        expect(check.stdout.trim(), file).toBe('ok');
        const copy = new Database(join(dir, 'backups', file), { readonly: true });
        try {
          const row = copy.prepare('select status from kb_bot_devices where device_id = ?').get('backup-test-01') as { status: string } | undefined;
          expect(row, file).toEqual({ status: 'pending' });
        } finally {
          copy.close();
        }
      }
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  });
});
