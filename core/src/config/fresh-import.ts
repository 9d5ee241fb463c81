import { existsSync, realpathSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';

/**
 * Fresh imports of bridge.config.ts for hot reload. Node never evicts an ES module, so the
 * reload imports the config under a new query, and resolve hooks (fresh-import-hooks.mjs) give
 * that query to every local file whose content (or one of whose imports) changed since it was
 * loaded. They must see the first load to know what was loaded, so `trackLocalModules` runs
 * before the server imports its config. Limits (docs/operations.md, "Reload"): packages inside
 * node_modules (a plugin installed there, a plugin's dependencies) are never evaluated again,
 * and each reload keeps the previous copies of the files it re-evaluated (the config, changed
 * plugin files) in memory for the life of the process.
 */

const QUERY = 'botbridge-reload';
const READY_TIMEOUT_MS = 10_000;

interface Tracker {
  readonly port: MessagePort;
  readonly exclude: readonly string[];
  generation: number;
}

let tracker: Tracker | null | undefined;

/** Registers the resolve hooks once per process; false where Node cannot (no module.register). */
export function trackLocalModules(): boolean {
  if (tracker !== undefined) return tracker !== null;
  if (typeof register !== 'function') {
    tracker = null;
    return false;
  }
  const exclude = ownPackageDirs();
  const { port1, port2 } = new MessageChannel();
  register(new URL('./fresh-import-hooks.mjs', import.meta.url), { data: { exclude, port: port2 }, transferList: [port2] });
  port1.unref();
  tracker = { port: port1, exclude, generation: 0 };
  return true;
}

/**
 * Imports `path` again, re-evaluating it and the local files that changed. Without the hooks
 * (not tracked) only the file itself is fresh.
 */
export async function importFresh(path: string): Promise<unknown> {
  const t = tracker ?? null;
  const generation = t === null ? Date.now() : (t.generation += 1);
  if (t !== null) {
    await askReady(t, path, generation);
    purgeCommonJs(t.exclude);
  }
  const url = new URL(pathToFileURL(path).href);
  url.searchParams.set(QUERY, String(generation));
  return import(url.href);
}

function askReady(t: Tracker, entry: string, generation: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      t.port.off('message', onMessage);
      t.port.unref();
      reject(new Error('module resolve hooks did not answer'));
    }, READY_TIMEOUT_MS);
    const onMessage = (message: { type?: string; id?: number }) => {
      if (message.type !== 'ready' || message.id !== generation) return;
      clearTimeout(timer);
      t.port.off('message', onMessage);
      // A 'message' listener refs the port; unref'd again, it never keeps a stopped server alive.
      t.port.unref();
      resolve();
    };
    t.port.on('message', onMessage);
    t.port.postMessage({ type: 'reload', id: generation, generation, entry });
  });
}

/**
 * A config loaded as CommonJS (its folder has no `"type": "module"`) requires its plugins through
 * the CommonJS cache, which the ESM hooks do not see: its local entries are dropped so the
 * reload requires them again (dropped CommonJS modules can be collected).
 */
function purgeCommonJs(exclude: readonly string[]): void {
  const cache = createRequire(import.meta.url).cache;
  for (const file of Object.keys(cache)) {
    if (file.includes(`${sep}node_modules${sep}`) || exclude.some((prefix) => file.startsWith(prefix))) continue;
    delete cache[file];
  }
}

/** botbridge's own packages (one copy of the sdk and core per process, never re-evaluated). */
function ownPackageDirs(): string[] {
  const dirs = new Set<string>();
  const core = packageDir(fileURLToPath(import.meta.url));
  if (core !== undefined) dirs.add(core);
  for (const name of ['@botbridge/sdk', '@botbridge/testing']) {
    try {
      const dir = packageDir(fileURLToPath(import.meta.resolve(name)));
      if (dir !== undefined) dirs.add(dir);
    } catch {
      // not installed here
    }
  }
  return [...dirs].map((dir) => dir + sep);
}

function packageDir(file: string): string | undefined {
  let dir = dirname(realpathSync(file));
  for (let i = 0; i < 6; i += 1) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}
