import { z } from '@botbridge/sdk';

/** Ids of the built-in commands, for the `enabled` list. */
export const COMMAND_NAMES = ['echo', 'client_info', 'imgext', 'reload_bots_config'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

const adminEntrySchema = z.strictObject({
  /** KakaoTalk's per-user hash; sender names are spoofable, so they are never used. */
  userHash: z.string().min(1),
  /** A channelId, or `*` for every room of the bot. */
  channelId: z.string().min(1).default('*'),
});

const waitMs = z.number().int().nonnegative();

export const commandsConfigSchema = z.strictObject({
  /** Commands are `{prefix} {word}`, e.g. `# echo`. */
  prefix: z.string().min(1).default('#'),
  /** Administrators by botName. */
  admins: z.record(z.string(), z.array(adminEntrySchema)).default({}),
  echo: z
    .strictObject({
      maxRepeat: z.number().int().positive().default(5),
    })
    .prefault({}),
  imgext: z
    .strictObject({
      /** Width and height of each image in pixels. */
      size: z.number().int().min(8).max(1000).default(100),
      minWaitMs: waitMs.default(1_000),
      maxWaitMs: waitMs.default(30_000),
    })
    .refine((imgext) => imgext.minWaitMs <= imgext.maxWaitMs, { message: 'minWaitMs must not exceed maxWaitMs' })
    .prefault({}),
  /** Commands to enable; all when absent. */
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
    /** The commands this bot answers; a disabled command's line passes on to later plugins. */
    enabled: z.array(z.enum(COMMAND_NAMES)).default(() => [...(config.enabled ?? COMMAND_NAMES)]),
    /** This bot's administrators (in place of `admins[botName]` of bridge.config.ts). */
    admins: z.array(adminEntrySchema).default(() => admins.map((admin) => ({ ...admin }))),
  });
}

export type CommandsBotConfig = z.output<ReturnType<typeof commandsBotConfigSchema>>;
