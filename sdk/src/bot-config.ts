/**
 * Per-bot config: settings that may differ between the bots served by one bridge (enabled
 * commands, admins, a room's ordering, reply pacing). A plugin declares the shape of its part
 * with `definePlugin({ botConfig })` and reads it with `ctx.botConfig(botName)`; it never reads
 * files. Where the settings come from is a *source*: one plugin per bridge (e.g.
 * `@botbridge/plugin-auto-config`, backed by JSON files) claims that role with
 * `ctx.provideBotConfig()` and hands documents to the core, which validates and applies them.
 * Without a source every bot runs on the defaults.
 */

/**
 * One bot's settings document, as a source stores it (JSON-safe). `core` is the core's own
 * section; `plugins` has one section per plugin with a `botConfig` schema, keyed by plugin name.
 */
export interface BotConfigDocument {
  readonly $comment?: string;
  readonly core?: BotCoreConfig;
  readonly plugins?: Readonly<Record<string, unknown>>;
}

/** The core's per-bot section. Absent keys take the values of `bridge.config.ts`. */
export interface BotCoreConfig {
  /** Gap between several replies to one message (overrides pipeline.replyGapMs for this bot). */
  readonly replyGapMs?: number;
  /** How long a reply waits in the outbox for a device of this bot (overrides replies.outbox.ttlMs). */
  readonly outboxTtlMs?: number;
  /**
   * Per-room overrides keyed by channelId (`name:<room name>` for rooms without one). They
   * replace this bot's entries of pipeline.rooms; `concurrency` beats kb_rooms.room_concurrency.
   */
  readonly rooms?: Readonly<Record<string, { readonly concurrency?: number; readonly ordered?: boolean }>>;
}

/** One problem of a document: which section, where in the document, and what. */
export interface BotConfigIssue {
  /** The plugin whose section is wrong, or null for the core section and the document itself. */
  readonly plugin: string | null;
  /** JSON path in the document, e.g. `plugins.commands.enabled[0]` or `core.rooms.123.ordered`. */
  readonly path: string;
  readonly message: string;
}

export type BotConfigResult =
  | {
      readonly ok: true;
      /** The document as applied: every section present, defaults filled in. */
      readonly document: BotConfigDocument;
      /** Not errors: e.g. a section of a plugin that is not enabled (ignored). */
      readonly warnings: readonly BotConfigIssue[];
    }
  | { readonly ok: false; readonly issues: readonly BotConfigIssue[]; readonly warnings: readonly BotConfigIssue[] };

/**
 * The handle a per-bot config source gets from `ctx.provideBotConfig()`. Documents are
 * validated against the core section and every enabled plugin's `botConfig` schema; an invalid
 * document is refused whole and the bot keeps its previous settings.
 */
export interface BotConfigProvider {
  /** The full default document for a bot (what a source writes for a bot seen the first time). */
  defaults(botName: string): BotConfigDocument;
  /** Validates without applying. */
  validate(botName: string, document: unknown): BotConfigResult;
  /** Validates and, if valid, applies at once: later reads of `ctx.botConfig(botName)` see it. */
  apply(botName: string, document: unknown): BotConfigResult;
  /** Forgets what was applied for a bot: it runs on the defaults again. */
  reset(botName: string): void;
  /** Bots with an applied document. */
  bots(): string[];
}
