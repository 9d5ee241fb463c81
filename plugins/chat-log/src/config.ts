import { z } from '@botbridge/sdk';

export const chatLogConfigSchema = z.strictObject({
  /** A line starting with this is logged as a command (`messageType: 'command'`). */
  prefix: z.string().min(1).default('#'),
  /** Also log our own replies that reached a phone (`isOurBotResponse: true`). */
  logReplies: z.boolean().default(true),
  /** Rooms (channelIds) never logged, neither their lines nor our replies to them. */
  excludeRooms: z.array(z.string()).default([]),
});

export type ChatLogConfig = z.output<typeof chatLogConfigSchema>;
export type ChatLogConfigInput = z.input<typeof chatLogConfigSchema>;
