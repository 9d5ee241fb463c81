import { z } from '@botbridge/sdk';

const adminEntrySchema = z.strictObject({
  /** KakaoTalk's per-user hash (sender names are spoofable). */
  userHash: z.string().min(1),
  /** A channelId, or `*` for every room of the bot. */
  channelId: z.string().min(1).default('*'),
});

export const profilerConfigSchema = z.strictObject({
  /** A message that takes at least this long from admission to its last reply is logged with its trace. */
  slowMessageMs: z.number().int().positive().default(3_000),
  /** Who may run `# profile`, by botName. A bot's own settings may replace its list. */
  admins: z.record(z.string(), z.array(adminEntrySchema)).default({}),
  /** The chat command: `{prefix} {trigger}` (`# profile`, `# profile reset`). */
  command: z.strictObject({
    prefix: z.string().min(1).default('#'),
    trigger: z.string().min(1).default('profile'),
  }).prefault({}),
  /** A line `{prefix} {word}` is labelled `{prefix} {word}` in metrics and summaries. */
  commandPrefixes: z.array(z.string().min(1)).default(['#']),
  /** Distinct command labels; later commands share the label `(other)`. */
  maxCommandLabels: z.number().int().positive().default(50),
  /** Recent profiles kept per bot for `# profile`. */
  windowSize: z.number().int().positive().default(1_000),
  /** Messages followed at once; beyond it the oldest is given up (counted). */
  maxInFlight: z.number().int().positive().default(10_000),
  /** A message not complete after this long (a hung handler) is given up (counted). */
  maxAgeMs: z.number().int().positive().default(600_000),
  /** Register the histograms on the bridge's Prometheus registry. */
  metrics: z.boolean().default(true),
});

export type ProfilerConfig = z.output<typeof profilerConfigSchema>;
export type ProfilerConfigInput = z.input<typeof profilerConfigSchema>;

/** One bot's settings: its slow-message threshold and the admins of `# profile`. */
export function profilerBotConfigSchema(botName: string, config: ProfilerConfig) {
  const admins = Object.hasOwn(config.admins, botName) ? config.admins[botName]! : [];
  return z.strictObject({
    slowMessageMs: z.number().int().positive().default(config.slowMessageMs),
    admins: z.array(adminEntrySchema).default(() => admins.map((admin) => ({ ...admin }))),
  });
}
