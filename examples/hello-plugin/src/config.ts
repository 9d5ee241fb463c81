import { z } from '@botbridge/sdk';

/** `usePlugin(hello, {...})` in bridge.config.ts. Every key has a default. */
export const helloConfigSchema = z.strictObject({
  /** Lines that get a greeting (the whole line, case and surrounding spaces ignored). */
  triggers: z.array(z.string().min(1)).min(1).default(['안녕', 'hello']),
  /** The greeting; `{sender}` becomes the sender's name. */
  greeting: z.string().min(1).default('{sender}님 안녕하세요!'),
});

export type HelloConfig = z.output<typeof helloConfigSchema>;

/**
 * One bot's settings (`ctx.botConfig(botName)`). The defaults come from the plugin config, so a
 * bot nobody configured greets like bridge.config.ts says.
 */
export function helloBotConfigSchema(_botName: string, config: HelloConfig) {
  return z.strictObject({
    /** This bot greets at all. */
    enabled: z.boolean().default(true),
    greeting: z.string().min(1).default(config.greeting),
  });
}
