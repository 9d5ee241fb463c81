import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it as base } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/types.js';
import { materialiseStoreSpec, SQLITE_TMP, testStoreSpecs } from '../store/test-stores.js';
import { runCli } from './run-cli.js';
import type { CliResult } from './run-cli.js';

const STACK_LINE = /^\s+at /m;
const utc = (date: Date) => date.toISOString().slice(0, 19).replace('T', ' ');

interface Seeded {
  readonly dir: string;
  readonly url: string;
  /** Kept open while the CLI runs, like a server holding the same file. */
  readonly store: Store;
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
}

const it = base.extend<{ dir: string }>({
  dir: async ({}, use) => {
    const dir = mkdtempSync(join(tmpdir(), 'botbridge-cli-'));
    await use(dir);
    rmSync(dir, { recursive: true, force: true });
  },
});

/**
 * Every test gets its own directory and database, so the (process-spawning, slow) tests run
 * concurrently: a SQLite file, or a fresh MySQL database for a MySQL spec (test-stores.ts).
 */
const seededIt = (spec: string) => it.extend<{ seeded: Seeded }>({
  seeded: async ({ dir }, use) => {
    const location = spec === SQLITE_TMP ? undefined : await materialiseStoreSpec(spec);
    const url = location?.url ?? `sqlite:${join(dir, 'data', 'bridge.db')}`;
    const store = await openStore(url);
    await store.registerDevice({ botName: 'LOA.i', deviceId: 'a1b2c3', ipAddress: '10.0.0.5', clientType: 'MessengerBotR', clientVersion: '3.2.1', initialStatus: 'pending' });
    await store.registerDevice({ botName: 'LOA.i', deviceId: 'phone-2', ipAddress: null, clientType: null, clientVersion: null, initialStatus: 'pending' });
    await store.registerDevice({ botName: 'Shop', deviceId: 'z9', ipAddress: '10.0.0.77', clientType: 'MessengerBotR', clientVersion: '3.2.0', initialStatus: 'approved' });
    await store.registerRoom({ botName: 'LOA.i', roomId: '18445682959392711', roomName: '테스트방', initialStatus: 'pending' });
    await store.registerRoom({ botName: 'LOA.i', roomId: 'name:evil', roomName: 'evil\u001b[2J', initialStatus: 'pending' });
    await use({ dir, url, store, cli: (args, env) => runCli(args, { cwd: dir, env }) });
    await store.close();
    await location?.cleanup();
  },
});

describe.each(testStoreSpecs())('botbridge devices / rooms on %s', (spec) => {
  const it = seededIt(spec);
  describe.concurrent('commands', { timeout: 60_000 }, () => {
    it('approve changes the row, and a store open in another process sees it in its change feed', async ({ seeded: { url, store, cli }, expect }) => {
      const latest = Math.max(...(await store.listDevices()).map((d) => d.updatedAt.getTime()));
      const result = await cli(['devices', 'approve', 'LOA.i', 'a1b2c3', '--store', url]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toBe('device LOA.i/a1b2c3: approved\n');
      const after = await store.getDevice('LOA.i', 'a1b2c3');
      expect(after).toMatchObject({ status: 'approved', rejectionReason: null });
      expect(after!.approvedAt).not.toBeNull();
      const feed = await store.devicesChangedSince(new Date(latest + 1));
      expect(feed.map((d) => [d.deviceId, d.status])).toEqual([['a1b2c3', 'approved']]);
    });

    it('deny, revoke and block record the status and the reason', async ({ seeded: { url, store, cli }, expect }) => {
      for (const [verb, status] of [['deny', 'denied'], ['revoke', 'revoked'], ['block', 'blocked']] as const) {
        const result = await cli(['devices', verb, 'LOA.i', 'phone-2', '--reason', `why ${verb}`, '--store', url]);
        expect(result.code).toBe(0);
        expect(await store.getDevice('LOA.i', 'phone-2')).toMatchObject({ status, rejectionReason: `why ${verb}` });
      }
    });

    it('a missing device is a one-line error with exit code 1 and no change', async ({ seeded: { url, store, cli }, expect }) => {
      const result = await cli(['devices', 'approve', 'LOA.i', 'nope', '--store', url]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('no device LOA.i/nope');
      expect(result.stderr).not.toMatch(STACK_LINE);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(await store.listDevices({ status: 'approved' })).toHaveLength(1);
    });

    it('lists devices as an aligned table', async ({ seeded: { url, store, cli }, expect }) => {
      const records = await store.listDevices();
      const result = await cli(['devices', 'list', '--store', url]);
      expect(result.code).toBe(0);
      const [a, p, z] = records.map((r) => utc(r.updatedAt));
      expect(result.stdout).toBe([
        'BOT    DEVICE   STATUS    IP         VERSION  UPDATED',
        `LOA.i  a1b2c3   pending   10.0.0.5   3.2.1    ${a}`,
        `LOA.i  phone-2  pending   -          -        ${p}`,
        `Shop   z9       approved  10.0.0.77  3.2.0    ${z}`,
        '',
      ].join('\n'));
    });

    it('filters by bot and status and prints JSON', async ({ seeded: { url, store, cli }, expect }) => {
      const result = await cli(['devices', 'list', '--bot', 'LOA.i', '--status', 'pending', '--json', '--store', url]);
      expect(result.code).toBe(0);
      const listed = JSON.parse(result.stdout) as { botName: string; deviceId: string; status: string; updatedAt: string }[];
      expect(listed.map((d) => d.deviceId)).toEqual(['a1b2c3', 'phone-2']);
      const stored = await store.getDevice('LOA.i', 'a1b2c3');
      expect(listed[0]).toMatchObject({ botName: 'LOA.i', status: 'pending', ipAddress: '10.0.0.5', updatedAt: stored!.updatedAt.toISOString() });
      const none = await cli(['devices', 'list', '--bot', 'Nobody', '--store', url]);
      expect(none).toMatchObject({ code: 0, stdout: `no devices in ${store.description}\n` });
    });

    it('rejects an unknown status with exit code 2 before touching the store', async ({ seeded: { url, cli, dir }, expect }) => {
      const result = await cli(['devices', 'list', '--status', 'bogus', '--store', 'sqlite:./must-not-exist/x.db']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("'bogus'");
      expect(result.stderr).toContain('pending, approved, denied, revoked, blocked');
      expect(result.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(join(dir, 'must-not-exist'))).toBe(false);
      const rooms = await cli(['rooms', 'list', '--status', 'APPROVED', '--store', url]);
      expect(rooms.code).toBe(2);
    });

    it('approves rooms and lists Korean names aligned, with control characters escaped', async ({ seeded: { url, store, cli }, expect }) => {
      const approved = await cli(['rooms', 'approve', 'LOA.i', '18445682959392711', '--store', url]);
      expect(approved).toMatchObject({ code: 0, stdout: 'room LOA.i/18445682959392711: approved\n' });
      expect((await store.getRoom('LOA.i', '18445682959392711'))?.status).toBe('approved');
      const denied = await cli(['rooms', 'deny', 'LOA.i', 'name:evil', '--reason', 'spam', '--store', url]);
      expect(denied.code).toBe(0);
      expect(await store.getRoom('LOA.i', 'name:evil')).toMatchObject({ status: 'denied', rejectionReason: 'spam' });

      const [korean, evil] = (await store.listRooms()).map((r) => utc(r.updatedAt));
      const list = await cli(['rooms', 'list', '--store', url]);
      expect(list.stdout).toBe([
        'BOT    ROOM               NAME         STATUS    UPDATED',
        `LOA.i  18445682959392711  테스트방     approved  ${korean}`,
        `LOA.i  name:evil          evil\\x1b[2J  denied    ${evil}`,
        '',
      ].join('\n'));
      const missing = await cli(['rooms', 'block', 'LOA.i', '999', '--store', url]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no room LOA.i/999');
    });

    it('takes the store from $BOTBRIDGE_STORE, then from the config file', async ({ seeded: { url, store, cli, dir }, expect }) => {
      const fromEnv = await cli(['devices', 'approve', 'LOA.i', 'phone-2'], { BOTBRIDGE_STORE: url });
      expect(fromEnv.code).toBe(0);
      expect((await store.getDevice('LOA.i', 'phone-2'))?.status).toBe('approved');

      writeFileSync(join(dir, 'bridge.config.ts'), `export default { store: { url: ${JSON.stringify(url)} } };\n`);
      const fromDefaultConfig = await cli(['devices', 'revoke', 'LOA.i', 'phone-2']);
      expect(fromDefaultConfig.code).toBe(0);
      expect((await store.getDevice('LOA.i', 'phone-2'))?.status).toBe('revoked');

      writeFileSync(join(dir, 'other.config.ts'), `export default { store: { url: ${JSON.stringify(url)} } };\n`);
      rmSync(join(dir, 'bridge.config.ts'));
      const fromNamedConfig = await cli(['devices', 'block', 'LOA.i', 'phone-2', '--config', 'other.config.ts']);
      expect(fromNamedConfig.code).toBe(0);
      expect((await store.getDevice('LOA.i', 'phone-2'))?.status).toBe('blocked');

      writeFileSync(join(dir, 'flag.db'), '');
      const flagWins = await cli(['devices', 'list', '--store', 'sqlite:flag.db', '--config', 'other.config.ts']);
      expect(flagWins).toMatchObject({ code: 0, stdout: `no devices in sqlite:${join(dir, 'flag.db')}\n` });
    });

    it('uses ./data/botbridge.db when nothing names a store, and never creates it', async ({ seeded: { cli, dir }, expect }) => {
      const path = join(dir, 'data', 'botbridge.db');
      expect(existsSync(path)).toBe(false);
      const missing = await cli(['devices', 'list', '--json']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(`botbridge: no store at sqlite:${path} (from the default (no bridge.config.ts here)); botbridge start creates it. `
        + 'Run this command in the folder of your bridge.config.ts, or name the store with --store URL or $BOTBRIDGE_STORE.\n');
      expect(existsSync(path)).toBe(false);
      const seeded = await openStore(`sqlite:${path}`);
      await seeded.close();
      const result = await cli(['devices', 'list', '--json']);
      expect(result).toMatchObject({ code: 0, stdout: '[]\n' });
    });
  });
});

describe.concurrent('botbridge command line', { timeout: 120_000 }, () => {
  it('several processes opening one fresh database at once all succeed', async ({ dir, expect }) => {
    const cli = (args: string[]) => runCli(args, { cwd: dir });
    // An empty file is a fresh database (the CLI refuses a missing one): every process migrates it at once.
    writeFileSync(join(dir, 'fresh.db'), '');
    const url = `sqlite:${join(dir, 'fresh.db')}`;
    const results = await Promise.all(Array.from({ length: 4 }, () => cli(['devices', 'list', '--store', url])));
    expect(results.map((r) => [r.code, r.stderr])).toEqual(Array.from({ length: 4 }, () => [0, '']));
  });

  it('reports a bad store URL without a stack trace or its password', async ({ dir, expect }) => {
    const cli = (args: string[]) => runCli(args, { cwd: dir });
    for (const url of ['postgres://kakao:hunter2@db/bot', 'mysql://kakao:hunter2@db/bot?sll=1']) {
      const result = await cli(['devices', 'list', '--store', url]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('BRIDGE_ERR_STORE_URL');
      expect(result.stderr).toContain('kakao:***@db');
      expect(result.stderr).not.toContain('hunter2');
      expect(result.stderr).not.toMatch(STACK_LINE);
    }
  });

  it('reports an unreachable MySQL store without a stack trace or its password', async ({ dir, expect }) => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await runCli(['devices', 'list', '--store', `mysql://kakao:hunter2@127.0.0.1:${port}/bot`], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('BRIDGE_ERR_STORE_UNAVAILABLE');
    expect(result.stderr).toContain(`kakao:***@127.0.0.1:${port}`);
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('reports a missing config file as a failure', async ({ dir, expect }) => {
    const cli = (args: string[]) => runCli(args, { cwd: dir });
    const result = await cli(['rooms', 'list', '--config', 'missing.config.ts']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('BRIDGE_ERR_CONFIG_LOAD');
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('help exits 0, usage errors exit 2', async ({ dir, expect }) => {
    const cli = (args: string[]) => runCli(args, { cwd: dir });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('devices');
    expect(help.stdout).toContain('start');
    expect((await cli(['devices', 'frobnicate'])).code).toBe(2);
    expect((await cli(['devices', 'approve', 'LOA.i'])).code).toBe(2);
    const port = await cli(['start', '--port', '70000']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port');
  });
});
