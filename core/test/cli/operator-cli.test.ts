import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it as base } from 'vitest';
import { BIN, runCli } from './run-cli.js';

/** What an operator sees when botbridge is started in the wrong place or with a broken setup. */

const STACK_LINE = /^\s+at /m;
const SDK_DIR = fileURLToPath(new URL('../../../sdk', import.meta.url));

const it = base.extend<{ dir: string }>({
  dir: async ({}, use) => {
    const dir = mkdtempSync(join(tmpdir(), 'botbridge-operator-'));
    await use(dir);
    rmSync(dir, { recursive: true, force: true });
  },
});

describe.concurrent('botbridge for operators', { timeout: 60_000 }, () => {
  it('start without bridge.config.ts fails loudly and creates nothing', async ({ dir, expect }) => {
    const result = await runCli(['start', '--port', '0', '--no-http'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no bridge.config.ts in ${dir}`);
    expect(result.stderr).toContain('--defaults');
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(result.stdout).toBe('');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('start --defaults runs on the built-in defaults, and says so', async ({ dir, expect }) => {
    const child = spawn(process.execPath, [BIN, 'start', '--defaults', '--port', '0', '--no-http', '--store', `sqlite:${join(dir, 'x.db')}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const lines: Record<string, unknown>[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not listening; ${JSON.stringify(lines)}`)), 20_000);
        createInterface({ input: child.stdout }).on('line', (line) => {
          lines.push(JSON.parse(line) as Record<string, unknown>);
          if (lines.at(-1)!.msg === 'botbridge listening') {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect(lines.find((l) => l.msg === 'starting botbridge')).toMatchObject({ config: '(defaults)' });
      expect(lines.at(-1)).toMatchObject({ plugins: [] });
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  });

  it('devices list in the wrong folder names the store it looked for and creates none', async ({ dir, expect }) => {
    const result = await runCli(['devices', 'list'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no store at sqlite:${join(dir, 'data', 'botbridge.db')}`);
    expect(result.stderr).toContain('folder of your bridge.config.ts');
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('a taken TCP port is BRIDGE_ERR_LISTEN with the address and a hint, and no plugin is announced', async ({ dir, expect }) => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      writeFileSync(join(dir, 'bridge.config.ts'), [
        `const plugin = { name: 'early', setup() {} };`,
        `export default { listen: { host: '127.0.0.1', port: ${port} }, http: { enabled: false }, store: { url: 'sqlite:./x.db' }, plugins: [plugin] };`,
      ].join('\n'));
      const result = await runCli(['start'], { cwd: dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`botbridge: cannot listen for bridge scripts on 127.0.0.1:${port}: EADDRINUSE; another process (maybe another botbridge) holds this port; `
        + 'stop it, or choose another port with --port or listen.port (BRIDGE_ERR_LISTEN)\n');
      expect(result.stdout).not.toContain('plugin started');
      expect(result.stdout).not.toContain('botbridge listening');
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('a config typo is printed once, with a suggestion', async ({ dir, expect }) => {
    writeFileSync(join(dir, 'bridge.config.ts'), 'export default { pipline: {}, listen: { prot: 1 } };\n');
    const result = await runCli(['start', '--no-http'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('botbridge: invalid config: listen.prot: unknown key (did you mean "port"?); pipline: unknown key (did you mean "pipeline"?) (BRIDGE_ERR_CONFIG_INVALID)\n');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('a config outside the repository that cannot find @botbridge/sdk says how to install it', async ({ dir, expect }) => {
    writeFileSync(join(dir, 'bridge.config.ts'), "import { defineConfig } from '@botbridge/sdk';\nexport default defineConfig({});\n");
    const result = await runCli(['start'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Cannot find module '@botbridge/sdk'");
    expect(result.stderr).toContain(`cd ${dir} && npm install ${SDK_DIR}`);
    expect(result.stderr).not.toContain('Require stack');
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});
