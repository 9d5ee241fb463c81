import { readFileSync } from 'node:fs';
import type { ProfileEntry, ProfileSummary } from '../report/results-types.js';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) this summary reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const ROOT = process.cwd();

/** Where a frame's code lives: a core module folder, a plugin, a dependency, Node itself, or V8. */
export function categoryOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native builtins)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return `dep: ${parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const core = url.match(/\/core\/src\/([^/]+)\//);
  if (core) return `core/${core[1]}`;
  if (url.includes('/core/src/')) return 'core';
  const plugin = url.match(/\/plugins\/([^/]+)\//);
  if (plugin) return `plugin: ${plugin[1]}`;
  if (url.includes('/sdk/src/')) return 'sdk';
  if (url.includes('/bench/')) return 'bench wrapper';
  if (url.startsWith('node:')) {
    const name = url.slice('node:'.length).replace(/^internal\//, '');
    return `node: ${name.split('/')[0]}`;
  }
  return 'other';
}

function shortLocation(url: string, line: number): string {
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const rel = path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
  return rel === '' ? '' : `${rel.replace(/^.*\/node_modules\//, '')}:${line + 1}`;
}

/**
 * Self time per function and per category. Each sample is charged the time until the next
 * sample (V8's timeDeltas), so the figures are milliseconds of CPU on the main thread; idle
 * time is listed but excluded from the percentages.
 */
export function summarizeProfile(profile: CpuProfile, scenario: string, topN = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const perFunction = new Map<string, { name: string; location: string; category: string; us: number }>();
  const perCategory = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const category = categoryOf(url, functionName);
    perCategory.set(category, (perCategory.get(category) ?? 0) + us);
    if (category === '(idle)') continue;
    busyUs += us;
    const name = functionName === '' ? '(anonymous)' : functionName;
    const location = shortLocation(url, lineNumber);
    const key = `${name}@${location}`;
    const entry = perFunction.get(key) ?? { name, location, category, us: 0 };
    entry.us += us;
    perFunction.set(key, entry);
  }
  const pct = (us: number) => (busyUs === 0 ? 0 : (us / busyUs) * 100);
  const inclusive = inclusiveTimes(profile);
  const top: ProfileEntry[] = [...perFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ name: e.name, location: e.location || e.category, selfMs: e.us / 1000, selfPercent: pct(e.us) }));
  const categories = [...perCategory.entries()]
    .filter(([category]) => category !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .map(([category, us]) => ({ category, selfMs: us / 1000, selfPercent: pct(us) }));
  const inclusiveTop: ProfileEntry[] = [...inclusive.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ name: e.name, location: e.location, selfMs: e.us / 1000, selfPercent: pct(e.us) }));
  return { scenario, totalMs: busyUs / 1000, categories, top, inclusive: inclusiveTop };
}

/** Frames worth an inclusive figure: the project's own code and its dependencies. */
const OWN_CODE = /^(core|plugin|sdk|dep: )/;

/**
 * Inclusive time of the project's functions: each sample is charged once to every distinct
 * project or dependency function on its stack, so `createMessageWorker` shows what a whole
 * message costs and `child` (pino) what its loggers cost, callees included.
 */
function inclusiveTimes(profile: CpuProfile) {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const keyOf = new Map<number, { key: string; name: string; location: string } | null>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const category = categoryOf(url, functionName);
    const name = functionName === '' ? '(anonymous)' : functionName;
    const location = shortLocation(url, lineNumber);
    keyOf.set(node.id, OWN_CODE.test(category) ? { key: `${name}@${location}`, name, location } : null);
  }
  const totals = new Map<string, { name: string; location: string; us: number }>();
  const seen = new Set<string>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    seen.clear();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const k = keyOf.get(id);
      if (!k || seen.has(k.key)) continue;
      seen.add(k.key);
      const entry = totals.get(k.key) ?? { name: k.name, location: k.location, us: 0 };
      entry.us += delta;
      totals.set(k.key, entry);
    }
  }
  return totals;
}

export function summarizeProfileFile(file: string, scenario: string, topN?: number): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, scenario, topN);
}
