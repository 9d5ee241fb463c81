import type { z } from 'zod';

/**
 * Readable config errors: each issue as `path: what is wrong`, unknown keys with the nearest
 * known key of the schema as a suggestion ("did you mean"), every issue (not only the first).
 * Shared by bridge.config.ts and plugin configs.
 */

type Issue = z.core.$ZodIssue;

/** Internal shape of a zod 4 schema, read only to find the keys an object at a path accepts. */
interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, { _zod: { def: SchemaDef } }>;
  readonly innerType?: { _zod: { def: SchemaDef } };
  readonly in?: { _zod: { def: SchemaDef } };
  readonly valueType?: { _zod: { def: SchemaDef } };
  readonly element?: { _zod: { def: SchemaDef } };
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

function unwrap(def: SchemaDef): SchemaDef {
  let current = def;
  for (let i = 0; i < 16; i += 1) {
    if (WRAPPERS.has(current.type) && current.innerType) current = current.innerType._zod.def;
    else if (current.type === 'pipe' && current.in) current = current.in._zod.def;
    else break;
  }
  return current;
}

/** The keys an object schema accepts at `path`, or [] when the path leads elsewhere. */
export function keysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  let def = (schema as { _zod?: { def: SchemaDef } } | undefined)?._zod?.def;
  for (const segment of path) {
    if (def === undefined) return [];
    const current = unwrap(def);
    if (current.type === 'object') def = current.shape?.[String(segment)]?._zod.def;
    else if (current.type === 'record') def = current.valueType?._zod.def;
    else if (current.type === 'array') def = current.element?._zod.def;
    else return [];
  }
  if (def === undefined) return [];
  const target = unwrap(def);
  return target.type === 'object' && target.shape ? Object.keys(target.shape) : [];
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment). A tiny function
 * instead of a dependency: commander has one but does not export it, and nothing else in
 * node_modules does; keys are short, so the O(n·m) table is nothing.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j += 1) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known key nearest to `key` (case-insensitive), if it is close enough to be a typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { key: candidate, distance };
  }
  // Like commander's rule: at most a third of the key's length may differ (and at least one edit allowed).
  if (best === undefined || best.distance > Math.max(1, Math.floor(key.length / 3))) return undefined;
  return best.key;
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** One line per problem: `path: message`, unknown keys named by their own path with a suggestion. */
export function describeIssues(issues: readonly Issue[], schema: unknown): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, issue.path);
      for (const key of issue.keys) {
        const suggestion = suggestKey(key, known);
        lines.push(`${joinPath([...issue.path, key])}: unknown key${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`);
      }
    } else if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      lines.push(`${joinPath(issue.path)}: invalid key: ${issue.issues.map((inner) => inner.message).join(', ')}`);
    } else {
      lines.push(`${joinPath(issue.path)}: ${issue.message}`);
    }
  }
  return lines;
}

/** The path of the first issue (what BridgeError params keep for code that reads one). */
export function firstPath(issues: readonly Issue[]): string {
  const issue = issues[0];
  if (issue === undefined) return '(root)';
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) return joinPath([...issue.path, issue.keys[0]!]);
  return joinPath(issue.path);
}
