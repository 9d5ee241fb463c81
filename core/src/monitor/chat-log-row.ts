import type { ChatLogRow } from '../store/types.js';

/**
 * What the core accepts for `kb_chat_logs` through `BridgeApi.appendRow`. The chat-log plugin
 * declares its row type for the table (`BatchedTables`, by module augmentation); the core owns
 * the table (schema, migrations, retention), so it states here the fields it reads.
 */
export interface ChatLogInput {
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
  readonly directive: string | null;
  readonly messageType: string;
  readonly isMeaningful: boolean;
  readonly isBot: boolean;
  readonly isOurBotResponse: boolean;
  readonly isScheduled: boolean;
}

/** Maps a plugin's chat-log entry onto the kb_chat_logs row (server time added here). */
export function toChatLogRow(entry: ChatLogInput): ChatLogRow {
  return {
    channelId: entry.channelId,
    userHash: entry.userHash,
    roomName: entry.roomName,
    sender: entry.sender,
    message: entry.text,
    directive: entry.directive,
    messageType: entry.messageType,
    isMeaningful: entry.isMeaningful,
    botName: entry.botName,
    isMention: entry.isMention,
    isGroupChat: entry.isGroupChat,
    logId: entry.logId,
    clientTimestamp: entry.clientTimestamp,
    serverTimestamp: new Date(),
    isBot: entry.isBot,
    isOurBotResponse: entry.isOurBotResponse,
    isScheduled: entry.isScheduled,
  };
}
