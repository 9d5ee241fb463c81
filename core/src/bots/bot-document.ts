import { z, type BotConfigDocument, type BotConfigIssue, type BotConfigResult } from '@botbridge/sdk';

/** A room's per-bot override (the same keys as pipeline.rooms entries). */
export interface RoomOverride {
  readonly concurrency?: number;
  readonly ordered?: boolean;
}

/** The core section of one bot with every key resolved. */
export interface ResolvedCore {
  readonly replyGapMs: number;
  readonly outboxTtlMs: number;
  readonly rooms: Readonly<Record<string, RoomOverride>>;
}

/** A validated document: the core section and every enabled plugin's section, defaults applied. */
export interface ResolvedDocument {
  readonly core: ResolvedCore;
  readonly plugins: ReadonlyMap<string, unknown>;
}

const roomOverrideSchema = z.strictObject({
  concurrency: z.number().int().positive().optional(),
  ordered: z.boolean().optional(),
});

/** The core section's schema; its defaults are the bridge's own settings for that bot. */
export function coreSectionSchema(defaults: ResolvedCore) {
  return z.strictObject({
    replyGapMs: z.number().int().nonnegative().default(defaults.replyGapMs),
    outboxTtlMs: z.number().int().positive().default(defaults.outboxTtlMs),
    rooms: z.record(z.string(), roomOverrideSchema).default({ ...defaults.rooms }),
  });
}

const TOP_LEVEL_KEYS = new Set(['$comment', 'core', 'plugins']);

/**
 * Validates one bot's document against the core section and the per-bot schema of every
 * enabled plugin. Every issue is collected (not only the first), each with its plugin and its
 * JSON path in the document, so an operator fixes a file in one pass. A section of a plugin
 * that is not enabled is a warning, not an error: disabling a plugin must not make every bot's
 * file invalid.
 */
export function validateBotDocument(
  input: unknown,
  coreDefaults: ResolvedCore,
  pluginSchemas: ReadonlyMap<string, z.ZodType>,
): BotConfigResult & { resolved?: ResolvedDocument } {
  const issues: BotConfigIssue[] = [];
  const warnings: BotConfigIssue[] = [];
  if (!isPlainObject(input)) {
    return { ok: false, issues: [{ plugin: null, path: '(document)', message: 'expected a JSON object' }], warnings };
  }
  for (const key of Object.keys(input)) {
    if (!TOP_LEVEL_KEYS.has(key)) issues.push({ plugin: null, path: key, message: 'unknown key (expected $comment, core, plugins)' });
  }
  if (input.$comment !== undefined && typeof input.$comment !== 'string') {
    issues.push({ plugin: null, path: '$comment', message: 'expected a string' });
  }

  const core = coreSectionSchema(coreDefaults).safeParse(input.core ?? {});
  if (!core.success) for (const issue of core.error.issues) issues.push({ plugin: null, path: formatPath(['core', ...issue.path]), message: issue.message });

  const sections = input.plugins ?? {};
  const plugins = new Map<string, unknown>();
  if (!isPlainObject(sections)) {
    issues.push({ plugin: null, path: 'plugins', message: 'expected an object with one section per plugin' });
  } else {
    for (const name of Object.keys(sections)) {
      if (!pluginSchemas.has(name)) warnings.push({ plugin: name, path: formatPath(['plugins', name]), message: 'no enabled plugin of this name has per-bot settings; section ignored' });
    }
    for (const [name, schema] of pluginSchemas) {
      const parsed = schema.safeParse(Object.hasOwn(sections, name) ? sections[name] : {});
      if (parsed.success) plugins.set(name, parsed.data);
      else for (const issue of parsed.error.issues) issues.push({ plugin: name, path: formatPath(['plugins', name, ...issue.path]), message: issue.message });
    }
  }

  if (issues.length > 0 || !core.success) return { ok: false, issues, warnings };
  const resolved: ResolvedDocument = { core: core.data, plugins };
  return { ok: true, document: toDocument(resolved, input.$comment as string | undefined), warnings, resolved };
}

/** The JSON-safe form of a resolved document (what a source writes to disk). */
export function toDocument(resolved: ResolvedDocument, comment?: string): BotConfigDocument {
  const plugins: Record<string, unknown> = {};
  for (const [name, section] of resolved.plugins) plugins[name] = section;
  const body = { core: { replyGapMs: resolved.core.replyGapMs, outboxTtlMs: resolved.core.outboxTtlMs, rooms: { ...resolved.core.rooms } }, plugins };
  return comment === undefined ? body : { $comment: comment, ...body };
}

/** `plugins.commands.enabled[0]`, `core.rooms.123.ordered`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out.length === 0 ? String(part) : `.${String(part)}`;
  }
  return out.length === 0 ? '(document)' : out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
