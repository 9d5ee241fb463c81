import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { FakeBridgeClient } from '@botbridge/testing';

/**
 * What 100 hot reloads of a real `botbridge start` cost (docs/operations.md, "Reload plugins
 * without a restart"): the server's RSS (from /proc), and its heap and active handles
 * (`process.getActiveResourcesInfo()`, answered by a probe plugin over the phone), before and
 * after N reloads through POST /api/reload of an unchanged config, then N more with the plugin
 * file edited before each (each re-evaluates that file, and the ESM loader keeps every copy).
 * A phone stays connected and must be answered by the newest plugin at the end.
 *
 *   node --import tsx bench/micro/reload-leak.ts [--reloads 100]
 */

const { values } = parseArgs({ options: { reloads: { type: 'string', default: '100' } } });
const reloads = Number(values.reloads);
const root = new URL('../../', import.meta.url).pathname;
const TOKEN = 'reload-bench-token-0123456789abcdef';

const dir = mkdtempSync(join(tmpdir(), 'botbridge-reload-bench-'));
writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
mkdirSync(join(dir, 'plugin'));
const plugin = (n: number) => `export const probe = {
  name: 'probe',
  setup(ctx: any) {
    ctx.setInterval(() => undefined, 60_000);
    ctx.on('ping', () => undefined);
    ctx.onMessage(({ message }: any) => message.text === 'handles'
      ? JSON.stringify({ n: ${n}, resources: process.getActiveResourcesInfo().length, heap: process.memoryUsage().heapUsed })
      : undefined);
  },
};
`;
writeFileSync(join(dir, 'plugin/index.ts'), plugin(0));
writeFileSync(join(dir, 'bridge.config.ts'), `import { probe } from './plugin/index.js';
export default {
  listen: { host: '127.0.0.1', port: 0 },
  http: { host: '127.0.0.1', port: 0, adminToken: '${TOKEN}' },
  store: { url: 'sqlite:./data/bridge.db' },
  approval: { autoApprove: true },
  log: { pretty: false },
  plugins: [probe],
};
`);

const child = spawn(process.execPath, [join(root, 'core/bin/botbridge.js'), 'start', '--config', 'bridge.config.ts'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BOTBRIDGE_STORE: '' } });
try {
  const { port, adminUrl } = await listening();
  const phone = await FakeBridgeClient.connect({ port });
  await phone.handshake;
  const probeNow = async () => {
    phone.analyze('handles');
    return JSON.parse((await phone.nextReply()).text) as { n: number; resources: number; heap: number };
  };
  const reload = async () => {
    const res = await fetch(`${adminUrl}/api/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { ok: boolean; error: unknown };
    if (!body.ok) throw new Error(`reload refused: ${JSON.stringify(body.error)}`);
  };
  for (let i = 0; i < 5; i += 1) await reload();
  const start = { rss: rssOf(child.pid!), ...(await probeNow()) };
  let t0 = performance.now();
  for (let i = 0; i < reloads; i += 1) await reload();
  const unchangedMs = performance.now() - t0;
  const unchanged = { rss: rssOf(child.pid!), ...(await probeNow()) };
  t0 = performance.now();
  for (let i = 1; i <= reloads; i += 1) {
    writeFileSync(join(dir, 'plugin/index.ts'), plugin(i));
    await reload();
  }
  const editedMs = performance.now() - t0;
  const edited = { rss: rssOf(child.pid!), ...(await probeNow()) };
  if (edited.n !== reloads) throw new Error(`expected the probe of edit ${reloads}, got ${edited.n}`);
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  console.log(`start:                     rss ${mib(start.rss)} MiB, heap ${mib(start.heap)} MiB, active resources ${start.resources}`);
  console.log(`+${reloads} unchanged reloads (${Math.round(unchangedMs)} ms): rss ${mib(unchanged.rss)} MiB, heap ${mib(unchanged.heap)} MiB, active resources ${unchanged.resources}`);
  console.log(`+${reloads} edited reloads (${Math.round(editedMs)} ms):   rss ${mib(edited.rss)} MiB, heap ${mib(edited.heap)} MiB, active resources ${edited.resources}`);
  console.log(`phone connected throughout: ${phone.closeReason === null}`);
  await phone.close();
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(/(\d+)/.exec(line)![1]) * 1024;
}

function listening(): Promise<{ port: number; adminUrl: string }> {
  return new Promise((resolve, reject) => {
    let port = 0;
    let adminUrl = '';
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number; url?: string };
      if (entry.msg === 'botbridge listening') port = entry.port!;
      if (entry.msg?.startsWith('admin HTTP server listening')) adminUrl = entry.url!;
      if (port && adminUrl) resolve({ port, adminUrl });
    });
  });
}
