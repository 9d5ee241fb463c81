import type { ChatMessage, ClientInfo, Logger, MessageAbort, MessageContext, Reply, RoomInfo, SendResult } from '@botbridge/sdk';
import type { PluginActivity } from './plugin-activity.js';

/**
 * The MessageContext one plugin's onMessage handler sees: the job's context, with `log` being
 * that plugin's logger (category `plugin:<name>`, so `log.categories` levels apply to handler
 * logs too) bound to the message. The child logger is made on first use only: most messages
 * are handled without a log line. Every member survives destructuring.
 */
export class PluginMessageContext implements MessageContext {
  private boundLog: Logger | undefined;
  private boundReply: ((reply: Reply | readonly Reply[] | string) => Promise<readonly SendResult[]>) | undefined;

  constructor(
    private readonly job: MessageContext,
    private readonly pluginLog: Logger,
    private readonly activity?: PluginActivity,
  ) {}

  get message(): ChatMessage {
    return this.job.message;
  }

  get room(): RoomInfo {
    return this.job.room;
  }

  get client(): ClientInfo {
    return this.job.client;
  }

  get signal(): AbortSignal {
    return this.job.signal;
  }

  get abort(): MessageAbort {
    return this.job.abort;
  }

  get log(): Logger {
    if (this.boundLog === undefined) {
      const { botName, deviceId, room, traceId } = this.job.message;
      this.boundLog = this.pluginLog.child({ botName, deviceId, room, traceId });
    }
    return this.boundLog;
  }

  /** Bound, because handlers destructure it (`({ message, reply }) => …`); made on first use. */
  get reply(): (reply: Reply | readonly Reply[] | string) => Promise<readonly SendResult[]> {
    this.boundReply ??= (reply) => {
      this.activity?.replied(typeof reply === 'string' || !Array.isArray(reply) ? 1 : reply.length);
      return this.job.reply(reply);
    };
    return this.boundReply;
  }
}
