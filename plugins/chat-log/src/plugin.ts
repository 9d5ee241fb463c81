import { definePlugin } from '@botbridge/sdk';
import { entryForReceived, entryForReply } from './chat-log-entry.js';
import { chatLogConfigSchema } from './config.js';

/**
 * Writes every admitted chat line (kb_chat_logs) and, with logReplies, our own replies that
 * reached a phone. Rows go to the core's buffered writer, so logging never delays a reply.
 */
export const chatLog = definePlugin({
  name: 'chat-log',
  version: '0.1.0',
  config: chatLogConfigSchema,
  setup(ctx, config) {
    const excluded = new Set(config.excludeRooms);
    const isExcluded = (channelId: string | null) => channelId !== null && excluded.has(channelId);

    ctx.onReceive((event) => {
      if (isExcluded(event.message.channelId)) return;
      ctx.bridge.appendRow('kb_chat_logs', entryForReceived(event, config.prefix));
    });

    if (config.logReplies) {
      ctx.on('reply:sent', ({ sent }) => {
        if (!sent.ok || isExcluded(sent.target.channelId)) return;
        ctx.bridge.appendRow('kb_chat_logs', entryForReply(sent));
      });
    }
  },
});
