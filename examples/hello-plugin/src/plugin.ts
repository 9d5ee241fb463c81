import { definePlugin, text } from '@botbridge/sdk';
import { helloBotConfigSchema, helloConfigSchema } from './config.js';

/** Greets a sender who says one of the trigger words; any other line passes on to later plugins. */
export const hello = definePlugin({
  name: 'hello',
  version: '0.1.0',
  config: helloConfigSchema,
  botConfig: helloBotConfigSchema,
  setup(ctx, config) {
    // Work done once at setup, not per message.
    const triggers = new Set(config.triggers.map((word) => word.trim().toLowerCase()));

    ctx.onMessage(({ message, log }) => {
      if (!triggers.has(message.text.trim().toLowerCase())) return undefined;
      // Read per message: an edit of the bot's settings applies to the next line.
      const bot = ctx.botConfig(message.botName);
      if (!bot.enabled) return undefined;
      log.debug({ sender: message.sender }, 'greeting');
      return text(bot.greeting.replaceAll('{sender}', message.sender));
    });
  },
});
