import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient } from '@botbridge/testing';

/**
 * A plugin made with `botbridge create plugin`, living outside this repository, enabled by a
 * bridge.config.ts outside it too: what an operator does. `npm install` of the `file:`
 * dependencies is stood in for by the links npm would make (no registry access in tests).
 */

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'core/bin/botbridge.js');

function run(args: string[], cwd: string, timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout, env: withoutStoreEnv() }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** `npm test` in a folder, as its author runs it (without the test runner's npm_* variables). */
function npmTest(cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(withoutStoreEnv()).filter(([key]) => !key.startsWith('npm_')));
  return new Promise((resolve) => {
    execFile('npm', ['test'], { cwd, timeout: 90_000, env }, (error, stdout, stderr) => {
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

/** What `npm install` of a file: dependency leaves: a link in node_modules. */
function link(dir: string, name: string, target: string): void {
  const path = join(dir, 'node_modules', name);
  mkdirSync(join(path, '..'), { recursive: true });
  symlinkSync(target, path, 'dir');
}

const dirs: string[] = [];
const children: import('node:child_process').ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('a plugin outside the repository', { timeout: 120_000 }, () => {
  it('is scaffolded, passes its own test, and is loaded from node_modules next to the config', async () => {
    const home = await mkdtemp(join(tmpdir(), 'botbridge-outside-'));
    dirs.push(home);

    const created = await run([bin, 'create', 'plugin', 'greet', '--dir', 'greet-plugin'], home);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const pluginDir = join(home, 'greet-plugin');
    const pkg = JSON.parse(readFileSync(join(pluginDir, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.name).toBe('botbridge-plugin-greet');
    expect(pkg.dependencies['@botbridge/sdk']).toBe(`file:${join(root, 'sdk')}`);
    expect(readFileSync(join(pluginDir, 'src/index.ts'), 'utf8')).toContain('definePlugin');
    expect(readFileSync(join(pluginDir, 'README.md'), 'utf8')).toContain("import { greet } from 'botbridge-plugin-greet'");
    // A second create at the same place refuses instead of overwriting (also under the alias `plugin create`).
    expect((await run([bin, 'plugin', 'create', 'greet', '--dir', 'greet-plugin'], home)).code).toBe(1);

    // The generated test passes as generated.
    link(pluginDir, '@botbridge/sdk', join(root, 'sdk'));
    link(pluginDir, '@botbridge/testing', join(root, 'testing'));
    link(pluginDir, 'vitest', join(root, 'node_modules/vitest'));
    mkdirSync(join(pluginDir, 'node_modules/.bin'));
    symlinkSync('../vitest/vitest.mjs', join(pluginDir, 'node_modules/.bin/vitest'));
    const tested = await npmTest(pluginDir);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/2 passed/);

    // An operator's folder: the config imports the sdk and the plugin package from its node_modules.
    const site = join(home, 'site');
    mkdirSync(site);
    link(site, '@botbridge/sdk', join(root, 'sdk'));
    link(site, 'botbridge-plugin-greet', pluginDir);
    await writeFile(join(site, 'bridge.config.ts'), [
      "import { defineConfig, usePlugin } from '@botbridge/sdk';",
      "import { greet } from 'botbridge-plugin-greet';",
      "export default defineConfig({ listen: { host: '127.0.0.1', port: 0 }, http: { enabled: false }, plugins: [usePlugin(greet, { answer: '반가워요 {sender}' })] });",
      '',
    ].join('\n'));
    // A path works as well, resolved from the config file's folder (here: --config of another folder's file).
    await writeFile(join(site, 'by-path.config.ts'), [
      "import { defineConfig, usePlugin } from '@botbridge/sdk';",
      "import { greet } from '../greet-plugin/src/index.ts';",
      "export default defineConfig({ listen: { host: '127.0.0.1', port: 0 }, http: { enabled: false }, plugins: [usePlugin(greet, { answer: 'by path {sender}' })] });",
      '',
    ].join('\n'));
    const doctor = await run([bin, 'doctor', '--config', join(site, 'by-path.config.ts')], home);
    expect(doctor.stdout).toMatch(/^ok {4}config +.*by-path\.config\.ts: valid, 1 plugin\(s\) \(greet\)$/m);

    const child = spawn(process.execPath, [bin, 'start', '--auto-approve'], { cwd: site, stdio: ['ignore', 'pipe', 'pipe'], env: withoutStoreEnv() });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening within 30 s; stderr: ${stderr}`)), 30_000);
      void exited.then((code) => reject(new Error(`exited with ${code}; stderr: ${stderr}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'botbridge listening') {
          clearTimeout(timer);
          resolve(entry);
        }
      });
    });
    expect(listening).toMatchObject({ plugins: ['greet'], store: `sqlite:${join(site, 'data/botbridge.db')}` });
    const phone = await FakeBridgeClient.connect({ port: listening.port as number });
    try {
      await phone.shouldReply({ text: '# greet', sender: '민수' }, '반가워요 민수');
    } finally {
      await phone.close();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  });
});
