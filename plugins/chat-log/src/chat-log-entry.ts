import type { Reply, ReceivedMessage, SentReply } from '@botbridge/sdk';
import { classify, isMeaningful } from './classify.js';

/**
 * One chat-log row (kb_chat_logs): a received chat line or a reply of ours. The core writes the
 * table (`ctx.bridge.appendRow('kb_chat_logs', row)`), batched, and adds the server time; its
 * row mapper (core/src/monitor/chat-log-row.ts) reads exactly these fields.
 */
export interface ChatLogEntry {
  readonly botName: string;
  readonly channelId: string | null;
  readonly roomName: string;
  readonly sender: string;
  readonly userHash: string | null;
  readonly text: string;
  readonly logId: string | null;
  readonly clientTimestamp: string | null;
  readonly isMention: boolean;
  readonly isGroupChat: boolean;
  /** The command word when the line is a command (e.g. `# echo`), else null. */
  readonly directive: string | null;
  readonly messageType: string;
  readonly isMeaningful: boolean;
  readonly isBot: boolean;
  readonly isOurBotResponse: boolean;
  readonly isScheduled: boolean;
}

declare module '@botbridge/sdk' {
  interface BatchedTables {
    kb_chat_logs: ChatLogEntry;
  }
}

/** The row for a received chat line (approved or not: unapproved traffic is logged too). */
export function entryForReceived(event: ReceivedMessage, prefix: string): ChatLogEntry {
  const { message } = event;
  return {
    botName: message.botName,
    channelId: message.channelId,
    roomName: message.room,
    sender: message.sender,
    userHash: message.userHash,
    text: message.text,
    logId: message.logId,
    clientTimestamp: message.clientTimestamp,
    isMention: message.isMention,
    isGroupChat: message.isGroupChat,
    ...classify(message.text, prefix),
    isBot: false,
    isOurBotResponse: false,
    isScheduled: false,
  };
}

/**
 * The row for one of our replies that reached a phone. The sender is the bot's name. A reply no
 * message caused (a proactive send, as the scheduler's) is marked isScheduled. Whether the room
 * is a group chat is only known from the causing message; otherwise false (the column default).
 */
export function entryForReply(sent: SentReply): ChatLogEntry {
  const { target, message, reply } = sent;
  return {
    botName: target.botName,
    channelId: target.channelId,
    roomName: target.room,
    sender: target.botName,
    userHash: null,
    text: replyText(reply),
    logId: null,
    clientTimestamp: null,
    isMention: false,
    isGroupChat: message?.isGroupChat ?? false,
    directive: null,
    messageType: reply.kind === 'text' ? 'text' : 'media',
    isMeaningful: reply.kind === 'text' ? isMeaningful(reply.text) : true,
    isBot: true,
    isOurBotResponse: true,
    isScheduled: message === null,
  };
}

/**
 * What a reply said, as the phone got it, except base64 images: megabytes of base64 in a chat
 * log help nobody, so they are logged as a count.
 */
export function replyText(reply: Reply): string {
  if (reply.kind === 'text') return reply.text;
  if (reply.form === 'url') return `MEDIA_URL:${reply.items.join('|||')}`;
  return `IMAGE_BASE64:(${reply.items.length} images)`;
}
