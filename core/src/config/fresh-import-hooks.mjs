// Module resolve hooks for hot reload (registered by fresh-import.ts with module.register; they
// run on Node's hooks thread). Plain JavaScript: this file is loaded before anything could
// compile TypeScript for that thread.
//
// Node's ESM loader caches a module by URL and never evicts it, so a reload that imports
// bridge.config.ts again gets the cached module, and the config's own imports (plugin entry
// files) are never resolved again. The reload imports the config under a new query
// (`?botbridge-reload=<n>`), and this hook gives the same query to every *local* file the new
// import graph reaches whose content changed since it was loaded, or one of whose imports did
// (so an edit deep inside a plugin reaches its entry file). Unchanged files resolve to the URL
// they were loaded under, so they are not evaluated again and cost no memory. "Local" means
// outside any node_modules folder and outside botbridge's own packages (sdk, core, testing: one
// copy of the sdk for the whole process). Workspace packages are symlinks that Node resolves to
// their real path outside node_modules, so they are local.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const QUERY = 'botbridge-reload';
/** Folder prefixes never re-evaluated (botbridge's own packages). */
let exclude = [];
/** path -> { hash, url }: the URL each local file was last loaded under, and its content then. */
const loaded = new Map();
/** child path -> Set of local parent paths that import it. */
const importers = new Map();
let generation = 0;
let dirty = new Set();

export function initialize(data) {
  exclude = data.exclude;
  const port = data.port;
  port.on('message', (message) => {
    if (message.type !== 'reload') return;
    generation = message.generation;
    dirty = staleFiles(message.entry);
    port.postMessage({ type: 'ready', id: message.id, stale: dirty.size });
  });
  port.unref();
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (!result.url.startsWith('file:')) return result;
  const path = pathOf(result.url);
  if (!isLocal(path)) return result;
  const parent = context.parentURL?.startsWith('file:') ? pathOf(context.parentURL) : null;
  if (parent !== null && isLocal(parent)) {
    let set = importers.get(path);
    if (set === undefined) importers.set(path, (set = new Set()));
    set.add(parent);
  }
  if (dirty.has(path)) {
    dirty.delete(path);
    const url = withGeneration(result.url, generation);
    loaded.set(path, { hash: hashOf(path), url });
    return { ...result, url };
  }
  const known = loaded.get(path);
  if (known !== undefined) return { ...result, url: known.url };
  loaded.set(path, { hash: hashOf(path), url: result.url });
  return result;
}

/** The entry, every loaded local file whose content changed, and everything importing one of them. */
function staleFiles(entry) {
  const changed = [entry];
  for (const [path, { hash }] of loaded) if (hashOf(path) !== hash) changed.push(path);
  const stale = new Set();
  while (changed.length > 0) {
    const path = changed.pop();
    if (stale.has(path)) continue;
    stale.add(path);
    for (const parent of importers.get(path) ?? []) changed.push(parent);
  }
  return stale;
}

function isLocal(path) {
  return !path.includes('/node_modules/') && !exclude.some((prefix) => path.startsWith(prefix));
}

function pathOf(url) {
  return fileURLToPath(url.split('?', 1)[0]);
}

function withGeneration(url, n) {
  const parsed = new URL(url);
  parsed.searchParams.set(QUERY, String(n));
  return parsed.href;
}

function hashOf(path) {
  try {
    return createHash('sha1').update(readFileSync(path)).digest('hex');
  } catch {
    return null;
  }
}
