import { z } from '@botbridge/sdk';

export const autoConfigSchema = z.strictObject({
  /** Folder of the per-bot files (`<botName>.json`), relative to the working directory. */
  dir: z.string().min(1).default('config/bots'),
  /** Write a file with every default for a bot that connects and has none. */
  generate: z.boolean().default(true),
  /** Watch the folder (fs.watch); the periodic scan below runs either way. */
  watch: z.boolean().default(true),
  /** An edit is read once the file has been quiet this long (editors save in several steps). */
  debounceMs: z.number().int().nonnegative().default(250),
  /** The folder is also scanned this often, for file systems where fs.watch misses changes. */
  pollIntervalMs: z.number().int().positive().default(2_000),
  /**
   * Files written at most. A handshake is unsigned (PROTOCOL.md), so anyone reaching the port can
   * name a new bot; past this many files, new bots run on the defaults without a file.
   */
  maxBots: z.number().int().positive().default(1_000),
  /** A larger file is refused (a per-bot file is a few kilobytes). */
  maxFileBytes: z.number().int().positive().default(1_048_576),
});

export type AutoConfigConfig = z.output<typeof autoConfigSchema>;
export type AutoConfigConfigInput = z.input<typeof autoConfigSchema>;
