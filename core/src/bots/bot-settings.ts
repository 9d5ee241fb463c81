import type { BotConfigDocument, BotConfigProvider, BotConfigResult, PluginDefinition, z } from '@botbridge/sdk';
import { BridgeError } from '../errors.js';
import { formatPath, toDocument, validateBotDocument, type ResolvedCore, type ResolvedDocument, type RoomOverride } from './bot-document.js';

/** What the core's per-bot section defaults to: the bridge's pipeline settings. */
export interface BotSettingsDefaults {
  readonly replyGapMs: number;
  /** replies.outbox.ttlMs */
  readonly outboxTtlMs: number;
  /** pipeline.rooms, keyed `<botName>/<roomKey>`. */
  readonly rooms: Readonly<Record<string, RoomOverride>>;
}

type SchemaFor = (botName: string) => z.ZodType;

const NO_SETTINGS: Readonly<Record<string, never>> = Object.freeze({});
/** Bots whose defaults are cached; bot names come from handshakes, so the cache is bounded. */
const DEFAULTS_CACHE_LIMIT = 1_000;

/**
 * The per-bot settings of one bridge: the core's section (reply gap, room overrides) and each
 * plugin's `botConfig` section. A bot runs on the defaults until the per-bot config source (one
 * plugin, `ctx.provideBotConfig()`) applies a document for it; reads are one or two Map lookups,
 * so the hot path calls them per message and live edits take effect at once. Room concurrency
 * is read when a room's dispatcher lane is created (it lives while the room has work), ordering
 * when a message is admitted, the reply gap before each reply.
 */
export class BotSettings {
  private readonly schemas = new Map<string, SchemaFor>();
  private readonly applied = new Map<string, ResolvedDocument>();
  private readonly defaultsCache = new Map<string, ResolvedDocument>();
  private source: string | null = null;
  /** Fast paths: with no unordered room and no per-bot gap anywhere, the sequencer asks nothing. */
  private anyUnordered: boolean;
  private anyBotGap = false;
  /** No pipeline.rooms entry at all: a bot without a document has no room override (no key built per lookup). */
  private readonly noBaseRooms: boolean;

  constructor(private readonly base: BotSettingsDefaults) {
    this.anyUnordered = hasUnordered(base.rooms);
    this.noBaseRooms = Object.keys(base.rooms).length === 0;
  }

  /** Registers a plugin's per-bot schema (before any setup); its defaults must parse from `{}`. */
  registerPlugin(definition: PluginDefinition, config: unknown): void {
    const botConfig = definition.botConfig;
    if (botConfig === undefined) return;
    const schemaFor: SchemaFor = typeof botConfig === 'function' ? (botName) => botConfig(botName, config) : () => botConfig;
    const probe = schemaFor('').safeParse({});
    if (!probe.success) {
      const issue = probe.error.issues[0]!;
      throw new BridgeError('BRIDGE_ERR_PLUGIN_BOT_CONFIG', { plugin: definition.name, path: formatPath(issue.path), reason: issue.message });
    }
    this.schemas.set(definition.name, schemaFor);
  }

  /** A plugin's section for a bot: applied, else its defaults (a frozen `{}` without a schema). */
  pluginConfig(plugin: string, botName: string): unknown {
    return (this.applied.get(botName) ?? this.defaultsOf(botName)).plugins.get(plugin) ?? NO_SETTINGS;
  }

  core(botName: string): ResolvedCore {
    return (this.applied.get(botName) ?? this.defaultsOf(botName)).core;
  }

  /** The override of a room: the bot's applied document, else pipeline.rooms. */
  roomOverride(botName: string, roomKey: string): RoomOverride | undefined {
    const doc = this.applied.get(botName);
    if (doc !== undefined) return Object.hasOwn(doc.core.rooms, roomKey) ? doc.core.rooms[roomKey] : undefined;
    return this.noBaseRooms ? undefined : this.base.rooms[`${botName}/${roomKey}`];
  }

  /** For the reply sequencer, whose room key is `<botName>\0<roomKey>`. */
  isOrdered(sequencerKey: string): boolean {
    if (!this.anyUnordered) return true;
    const cut = sequencerKey.indexOf('\u0000');
    return this.roomOverride(sequencerKey.slice(0, cut), sequencerKey.slice(cut + 1))?.ordered ?? true;
  }

  replyGapMs(sequencerKey: string): number {
    if (!this.anyBotGap) return this.base.replyGapMs;
    return this.applied.get(sequencerKey.slice(0, sequencerKey.indexOf('\u0000')))?.core.replyGapMs ?? this.base.replyGapMs;
  }

  /** How long a reply for this bot waits in the outbox (read when it is queued). */
  outboxTtlMs(botName: string): number {
    return this.applied.get(botName)?.core.outboxTtlMs ?? this.base.outboxTtlMs;
  }

  /** The handle of the per-bot config source; only one plugin may hold it. */
  claimSource(plugin: string): BotConfigProvider {
    if (this.source !== null && this.source !== plugin) {
      throw new BridgeError('BRIDGE_ERR_BOT_CONFIG_SOURCE', { plugin, holder: this.source });
    }
    this.source = plugin;
    return {
      defaults: (botName) => this.defaultDocument(botName),
      validate: (botName, document) => this.validate(botName, document).result,
      apply: (botName, document) => this.apply(botName, document),
      reset: (botName) => {
        this.applied.delete(botName);
        this.refreshFlags();
      },
      bots: () => [...this.applied.keys()],
    };
  }

  releaseSource(plugin: string): void {
    if (this.source === plugin) this.source = null;
  }

  defaultDocument(botName: string): BotConfigDocument {
    return toDocument(this.defaultsOf(botName));
  }

  apply(botName: string, document: unknown): BotConfigResult {
    const { result, resolved } = this.validate(botName, document);
    if (resolved !== undefined) {
      this.applied.set(botName, resolved);
      this.refreshFlags();
    }
    return result;
  }

  private validate(botName: string, document: unknown): { result: BotConfigResult; resolved?: ResolvedDocument } {
    const schemas = new Map<string, z.ZodType>();
    for (const [plugin, schemaFor] of this.schemas) schemas.set(plugin, schemaFor(botName));
    const { resolved, ...result } = validateBotDocument(document, this.baseCore(botName), schemas);
    return resolved === undefined ? { result } : { result, resolved };
  }

  private defaultsOf(botName: string): ResolvedDocument {
    let doc = this.defaultsCache.get(botName);
    if (doc !== undefined) return doc;
    const plugins = new Map<string, unknown>();
    for (const [plugin, schemaFor] of this.schemas) plugins.set(plugin, schemaFor(botName).parse({}));
    doc = { core: this.baseCore(botName), plugins };
    if (this.defaultsCache.size >= DEFAULTS_CACHE_LIMIT) this.defaultsCache.clear();
    this.defaultsCache.set(botName, doc);
    return doc;
  }

  /** The bridge's own settings for a bot: the global gap and this bot's pipeline.rooms entries. */
  private baseCore(botName: string): ResolvedCore {
    const prefix = `${botName}/`;
    const rooms: Record<string, RoomOverride> = {};
    for (const [key, room] of Object.entries(this.base.rooms)) if (key.startsWith(prefix)) rooms[key.slice(prefix.length)] = room;
    return { replyGapMs: this.base.replyGapMs, outboxTtlMs: this.base.outboxTtlMs, rooms };
  }

  private refreshFlags(): void {
    const docs = [...this.applied.values()];
    this.anyBotGap = docs.some((doc) => doc.core.replyGapMs !== this.base.replyGapMs);
    // Conservative: a pipeline.rooms entry overridden by a bot's document still counts; that only costs a slower lookup.
    this.anyUnordered = hasUnordered(this.base.rooms) || docs.some((doc) => hasUnordered(doc.core.rooms));
  }
}

function hasUnordered(rooms: Readonly<Record<string, RoomOverride>>): boolean {
  return Object.values(rooms).some((room) => room.ordered === false);
}
