import type { z } from 'zod';
import type { BridgeSettingsInput } from './config-schema.js';
import type { Disposer, PluginContext, ServiceName } from './types.js';

/**
 * A plugin: a name, an optional zod schema for its config, an optional schema for its per-bot
 * settings, and a setup that taps hooks.
 */
export interface PluginDefinition<Schema extends z.ZodType = z.ZodType, BotSchema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly version?: string;
  /** Validated at start; errors name the plugin and the path. Defaults come from the schema. */
  readonly config?: Schema;
  /**
   * The shape of this plugin's per-bot settings, read with `ctx.botConfig(botName)`. Every key
   * needs a default (a bot nobody configured runs on them, and a per-bot config source writes
   * them out for new bots). Either a schema, or a function of the bot's name and the plugin's
   * validated config that returns one, so defaults can come from `bridge.config.ts`.
   */
  readonly botConfig?: BotSchema | ((botName: string, config: z.output<Schema>) => BotSchema);
  /**
   * Services this plugin uses (`ctx.inject`): the start fails with `BRIDGE_ERR_PLUGIN_SERVICE_MISSING`
   * before its setup when no plugin listed before it provides one of them.
   */
  readonly inject?: readonly ServiceName[];
  setup(ctx: PluginContext<z.output<BotSchema>>, config: z.output<Schema>): void | Disposer | Promise<void | Disposer>;
}

/** A plugin with the operator's config for it. */
export interface PluginUse<Schema extends z.ZodType = z.ZodType> {
  readonly plugin: PluginDefinition<Schema>;
  readonly config: z.input<Schema> | undefined;
}

/** What `bridge.config.ts` lists: a plugin on its defaults, or one with config. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PluginEntry = PluginDefinition<any> | PluginUse<any>;

export function definePlugin<Schema extends z.ZodType = z.ZodObject<{}>, BotSchema extends z.ZodType = z.ZodType>(
  definition: PluginDefinition<Schema, BotSchema>,
): PluginDefinition<Schema, BotSchema> {
  return definition;
}

/** Pairs a plugin with its config, type-checked against the plugin's schema. */
export function usePlugin<Schema extends z.ZodType>(
  plugin: PluginDefinition<Schema>,
  config: z.input<Schema>,
): PluginUse<Schema> {
  return { plugin, config };
}

/** The operator's file: bridge settings plus the plugin list. */
export interface BridgeConfig extends BridgeSettingsInput {
  readonly plugins?: readonly PluginEntry[];
}

export function defineConfig(config: BridgeConfig): BridgeConfig {
  return config;
}
