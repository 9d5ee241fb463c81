import { z } from '@botbridge/sdk';

export const profilerConfigSchema = z.strictObject({
  /** A message that takes at least this long from admission to its last reply is logged with its trace. */
  slowMessageMs: z.number().int().positive().default(3_000),
  /**
   * The chat command, registered with the commands plugin (its prefix, its admins):
   * `{prefix} {trigger}` (`# profile`, `# profile reset`).
   */
  command: z.strictObject({
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

/** One bot's settings: its slow-message threshold. Who may run `# profile` is the commands plugin's per-bot `admins`. */
export function profilerBotConfigSchema(_botName: string, config: ProfilerConfig) {
  return z.strictObject({
    slowMessageMs: z.number().int().positive().default(config.slowMessageMs),
    /**
     * Ignored (the profiler's admin list moved to the commands plugin): accepted so that per-bot
     * files written by earlier versions still load. Grants nothing.
     */
    admins: z.array(z.unknown()).optional(),
  });
}
