import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import { openStore } from '../../src/store/open-store.js';
import { startServer, type StartedServer } from '../../src/server.js';
import { checkAdminToken, checkNats, checkPort, checkStore } from '../../src/cli/doctor-checks.js';
import { mysqlTestServer } from '../store/test-stores.js';
import { runCli } from './run-cli.js';

/** The MariaDB of BOTBRIDGE_TEST_STORE (the suite's MySQL run); its MySQL cases skip without it. */
const mysql = mysqlTestServer();

/** `botbridge doctor`: every check's outcomes, against real stores, ports and NATS. */

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'botbridge-doctor-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function settingsOf(config: Record<string, unknown>) {
  return resolveConfig(config as never).settings;
}

async function holdPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as { port: number }).port;
}

const noBotbridge = () => Promise.resolve(false);
const ports = { flag: '--port', key: 'listen.port', env: 'BOTBRIDGE_PORT' };

describe('botbridge doctor', { timeout: 60_000 }, () => {
  it('a broken config fails (exit 1) with the config error, and skips what needs it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bridge.config.ts'), 'export default { pipline: {}, listen: { port: 0 } };\n');
    const result = await runCli(['doctor'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^fail {2}config +invalid config: pipline: unknown key \(did you mean "pipeline"\?\)$/m);
    expect(result.stdout).toMatch(/^skip {2}store +needs a valid config$/m);
    expect(result.stdout).toContain('1 check(s) failed');
  });

  it("a plugin's broken config fails too, as botbridge start would report it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bridge.config.ts'), [
      `import { commands } from ${JSON.stringify(new URL('../../../plugins/commands/src/index.ts', import.meta.url).pathname)};`,
      "export default { plugins: [{ plugin: commands, config: { prefx: '!' } }] };",
      '',
    ].join('\n'));
    const result = await runCli(['doctor'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^fail {2}config +invalid plugin config: plugin commands: prefx: unknown key \(did you mean "prefix"\?\)$/m);
  });

  it('a good config passes (exit 0) with its warnings, in the documented format', async () => {
    const dir = tempDir();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${'k7'.repeat(10)}Zq9xW4vR2mT8pL5nB3cY\n`);
    chmodSync(tokenFile, 0o600);
    writeFileSync(join(dir, 'bridge.config.ts'), "export default { listen: { host: '127.0.0.1', port: 0 }, http: { port: 0 } };\n");
    const result = await runCli(['doctor'], { cwd: dir, env: { BOTBRIDGE_ADMIN_TOKEN_FILE: tokenFile, BOTBRIDGE_ADMIN_TOKEN: '', BOTBRIDGE_CLUSTER_URL: '' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {4}config +.*bridge\.config\.ts: valid, 0 plugin\(s\)$/m);
    expect(result.stdout).toMatch(/^warn {2}store +no store yet at sqlite:.*data\/botbridge\.db$/m);
    expect(result.stdout).toMatch(/^ok {4}token +set by .*token \(mode 600\)$/m);
    expect(result.stdout).toContain('no failures, 1 warning(s)');
  });

  it('store: unreachable MySQL (nothing listens)', async () => {
    const unreachable = await checkStore(settingsOf({ store: { url: 'mysql://root@127.0.0.1:1/botbridge' } }));
    expect(unreachable).toEqual([expect.objectContaining({ check: 'store', status: 'fail', detail: expect.stringMatching(/cannot reach .*ECONNREFUSED/), fix: expect.stringContaining('mysql -h 127.0.0.1 -P 1 -u root -p botbridge') })]);
  });

  it.skipIf(mysql === undefined)('store: a MySQL database that does not exist, and one botbridge never migrated (the real MariaDB)', async () => {
    const server = new URL(mysql!);
    const at = (database: string) => { const url = new URL(server); url.pathname = `/${database}`; return url.href; };
    const noDb = await checkStore(settingsOf({ store: { url: at('botbridge_doctor_missing_db') } }));
    expect(noDb).toEqual([expect.objectContaining({ status: 'fail', detail: expect.stringContaining(`database botbridge_doctor_missing_db does not exist on ${server.hostname}:${server.port || 3306}`), fix: expect.stringContaining('create the database') })]);

    // A database that exists but botbridge never started on: it answers, every migration is pending.
    const foreign = await checkStore(settingsOf({ store: { url: at('information_schema') } }));
    expect(foreign.map((r) => [r.check, r.status])).toEqual([['store', 'ok'], ['schema', 'warn'], ['scripts', 'ok']]);
    expect(foreign[1]!.detail).toMatch(/^0 of \d+ migrations applied; pending: 0001_kb_tables, /);
  });

  it('store: the SQLite schema against the known migrations, and the scripts devices reported', async () => {
    const dir = tempDir();
    const file = join(dir, 'bb.db');
    await (await openStore(`sqlite:${file}`)).close();
    const settings = settingsOf({ store: { url: `sqlite:${file}` } });
    const fresh = await checkStore(settings);
    expect(fresh.map((r) => [r.check, r.status])).toEqual([['store', 'ok'], ['schema', 'ok'], ['scripts', 'ok']]);
    expect(fresh[1]!.detail).toMatch(/^up to date \(\d+ migrations\)$/);

    const db = new Database(file);
    const last = (db.prepare('select name from botbridge_migrations order by name desc limit 1').get() as { name: string }).name;
    db.prepare('delete from botbridge_migrations where name = ?').run(last);
    expect((await checkStore(settings))[1]).toMatchObject({ check: 'schema', status: 'warn', detail: expect.stringContaining(`pending: ${last}`) });
    db.prepare('insert into botbridge_migrations (name, timestamp) values (?, ?)').run(last, new Date().toISOString());
    db.prepare('insert into botbridge_migrations (name, timestamp) values (?, ?)').run('9999_from_the_future', new Date().toISOString());
    db.prepare("insert into kb_bot_devices (bot_name, device_id, status, client_version, created_at, updated_at) values ('LOA.i', 'd1', 'approved', '3.1.4', '2026-01-01', '2026-01-01')").run();
    db.close();
    const newer = await checkStore(settings);
    expect(newer[1]).toMatchObject({ status: 'fail', detail: 'migrated by a newer botbridge: 9999_from_the_future unknown to this one' });
    expect(newer[2]).toMatchObject({ check: 'scripts', status: 'warn', detail: expect.stringContaining('devices reported 3.1.4') });
  });

  it('ports: free, in use by another process, held by the running botbridge', async () => {
    expect(await checkPort('bot port', '127.0.0.1', 0, ports, noBotbridge)).toMatchObject({ status: 'ok' });
    const taken = await holdPort();
    expect(await checkPort('bot port', '127.0.0.1', taken, ports, noBotbridge)).toEqual({
      check: 'bot port', status: 'fail', detail: `127.0.0.1:${taken} is in use by another process`,
      fix: `find it with \`ss -ltnp 'sport = :${taken}'\` and stop it, or choose another port (--port, BOTBRIDGE_PORT or listen.port)`,
    });

    // A real botbridge holding both ports: doctor run beside it says so instead of failing.
    const dir = tempDir();
    writeFileSync(join(dir, 'bridge.config.ts'), `export default { listen: { host: '127.0.0.1', port: 0 }, http: { port: 0, adminToken: 'd0c7e5-9QzX2mK8vL4pR7wT1yB6nH3jF0' }, store: { url: 'sqlite:${join(dir, 'bb.db')}' }, log: { level: 'silent' } };\n`);
    const server: StartedServer = await startServer({ configFile: join(dir, 'bridge.config.ts') });
    cleanup.push(() => server.stop());
    const botPort = server.bridge.address!.port;
    const httpPort = server.http!.port;
    writeFileSync(join(dir, 'running.config.ts'), `export default { listen: { host: '127.0.0.1', port: ${botPort} }, http: { port: ${httpPort}, adminToken: 'd0c7e5-9QzX2mK8vL4pR7wT1yB6nH3jF0' }, store: { url: 'sqlite:${join(dir, 'bb.db')}' } };\n`);
    const result = await runCli(['doctor', '--config', 'running.config.ts'], { cwd: dir });
    expect(result.stdout).toMatch(new RegExp(`^ok {4}bot port +127\\.0\\.0\\.1:${botPort} is held by the running botbridge$`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^ok {4}http port +127\\.0\\.0\\.1:${httpPort} is held by the running botbridge$`, 'm'));
    expect(result.code, result.stdout).toBe(0);
  });

  it('token: none, weak, loose file permissions, strong', () => {
    const loopback = settingsOf({});
    expect(checkAdminToken(loopback, {})).toMatchObject({ status: 'warn', detail: expect.stringContaining('no admin token') });
    expect(checkAdminToken(settingsOf({ http: { host: '0.0.0.0' } }), {})).toMatchObject({ status: 'fail', detail: expect.stringContaining('BRIDGE_ERR_HTTP_NO_TOKEN') });
    expect(checkAdminToken(loopback, { BOTBRIDGE_ADMIN_TOKEN: 'aaaaaaaaaaaaaaaaaaaaaaaa' })).toMatchObject({ status: 'fail', detail: 'the admin token (BOTBRIDGE_ADMIN_TOKEN) is easy to guess (24 characters, 1 distinct)' });
    expect(checkAdminToken(loopback, { BOTBRIDGE_ADMIN_TOKEN: 'my-admin-password-2026' })).toMatchObject({ status: 'fail', detail: expect.stringContaining('a common word') });
    expect(checkAdminToken(loopback, { BOTBRIDGE_ADMIN_TOKEN: 'Xk29fLq8Zr7mWp3v' })).toMatchObject({ status: 'warn', detail: 'the admin token (BOTBRIDGE_ADMIN_TOKEN) has 16 characters' });
    const dir = tempDir();
    const file = join(dir, 'token');
    writeFileSync(file, '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n');
    chmodSync(file, 0o644);
    expect(checkAdminToken(loopback, { BOTBRIDGE_ADMIN_TOKEN_FILE: file })).toEqual({ check: 'token', status: 'warn', detail: `the token file ${file} is readable by others (mode 644)`, fix: `chmod 600 ${file} (owned by the user running botbridge)` });
    chmodSync(file, 0o600);
    expect(checkAdminToken(loopback, { BOTBRIDGE_ADMIN_TOKEN_FILE: file })).toMatchObject({ status: 'ok', detail: `set by ${file} (mode 600)` });
    expect(checkAdminToken(settingsOf({ http: { enabled: false } }), {})).toMatchObject({ status: 'ok' });
  });

  it('NATS: answered with JetStream at the real server, refused at a closed port, absent when not configured', async () => {
    expect(await checkNats(undefined, {})).toBeUndefined();
    const up = await checkNats(undefined, { BOTBRIDGE_CLUSTER_URL: 'nats://127.0.0.1:4222' });
    expect(up).toMatchObject({ check: 'cluster', status: 'ok', detail: expect.stringMatching(/^NATS answers at 127\.0\.0\.1:4222 \(NATS [\d.]+, JetStream\)$/) });
    // The cluster key, when this build's config has one, is read from the settings.
    const down = await checkNats({ cluster: { url: 'nats://127.0.0.1:1' } } as never, {});
    expect(down).toMatchObject({ status: 'fail', detail: 'NATS (cluster.url) 127.0.0.1:1: ECONNREFUSED' });
    // Something that answers, but is not NATS.
    const other = createServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => other.close(resolve)));
    const notNats = await checkNats(undefined, { BOTBRIDGE_CLUSTER_URL: `nats://127.0.0.1:${(other.address() as { port: number }).port}` });
    expect(notNats).toMatchObject({ status: 'fail', detail: expect.stringContaining('answers, but not as a NATS server') });
  });
});
