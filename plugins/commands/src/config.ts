import { z } from '@botbridge/sdk';
import { BUILTIN_COMMANDS } from './builtins.js';

type Builtin = (typeof BUILTIN_COMMANDS)[number];

/** Ids of the built-in commands, for the `enabled` list. */
export const COMMAND_NAMES = BUILTIN_COMMANDS.map((builtin) => builtin.name) as [Builtin['name'], ...Builtin['name'][]];
export type CommandName = Builtin['name'];

/** One section per built-in with options, under its id (`echo: { maxRepeat }`). */
type OptionsShape = { [B in Builtin as B['options'] extends z.ZodType ? B['name'] : never]: Exclude<B['options'], undefined> };
const optionsShape = Object.fromEntries(
  BUILTIN_COMMANDS.flatMap((builtin) => (builtin.options === undefined ? [] : [[builtin.name, builtin.options]])),
) as OptionsShape;

/** One administrator: the commands plugin's list is the bot's, shared by every command registered here. */
export const adminEntrySchema = z.strictObject({
  /** KakaoTalk's per-user hash; sender names are spoofable, so they are never used. */
  userHash: z.string().min(1),
  /** A channelId, or `*` for every room of the bot. */
  channelId: z.string().min(1).default('*'),
});

export const commandsConfigSchema = z.strictObject({
  /** Commands are `{prefix} {word}`, e.g. `# echo`. */
  prefix: z.string().min(1).default('#'),
  /** Administrators by botName, for every admin-only command (built-in or registered by a plugin). */
  admins: z.record(z.string(), z.array(adminEntrySchema)).default({}),
  ...optionsShape,
  /**
   * A parameter a command does not take (`# dice --side=3` for `--sides`): `hint` answers the user
   * with the parameters the command takes (in Korean) instead of running it; `ignore` runs the
   * command without it, as the old server did.
   */
  unknownParameters: z.enum(['hint', 'ignore']).default('hint'),
  /** Built-in commands to enable; all when absent. Commands other plugins register are always on. */
  enabled: z.array(z.enum(COMMAND_NAMES)).optional(),
});

export type CommandsConfig = z.output<typeof commandsConfigSchema>;
export type CommandsConfigInput = z.input<typeof commandsConfigSchema>;

/**
 * One bot's settings (`ctx.botConfig(botName)`), e.g. from its auto-config file. The defaults are
 * this plugin's config in bridge.config.ts, so a bot nobody configured behaves as before.
 */
export function commandsBotConfigSchema(botName: string, config: CommandsConfig) {
  const admins = Object.hasOwn(config.admins, botName) ? config.admins[botName]! : [];
  return z.strictObject({
    /** The built-in commands this bot answers; a disabled command's line passes on to later plugins. */
    enabled: z.array(z.enum(COMMAND_NAMES)).default(() => [...(config.enabled ?? COMMAND_NAMES)]),
    /** This bot's administrators (in place of `admins[botName]` of bridge.config.ts). */
    admins: z.array(adminEntrySchema).default(() => admins.map((admin) => ({ ...admin }))),
  });
}

export type CommandsBotConfig = z.output<ReturnType<typeof commandsBotConfigSchema>>;
