import type { z } from 'zod';
import type { BridgeSettingsInput } from './config-schema.js';
import type { PluginContext } from './types.js';

/** A plugin: a name, an optional zod schema for its config, and a setup that taps hooks. */
export interface PluginDefinition<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly version?: string;
  /** Validated at start; errors name the plugin and the path. Defaults come from the schema. */
  readonly config?: Schema;
  setup(ctx: PluginContext, config: z.output<Schema>): void | Promise<void>;
}

/** A plugin with the operator's config for it. */
export interface PluginUse<Schema extends z.ZodType = z.ZodType> {
  readonly plugin: PluginDefinition<Schema>;
  readonly config: z.input<Schema> | undefined;
}

/** What `bridge.config.ts` lists: a plugin on its defaults, or one with config. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PluginEntry = PluginDefinition<any> | PluginUse<any>;

export function definePlugin<Schema extends z.ZodType = z.ZodObject<{}>>(
  definition: PluginDefinition<Schema>,
): PluginDefinition<Schema> {
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
