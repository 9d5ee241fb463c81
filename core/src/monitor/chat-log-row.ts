import type { ChatLogEntry } from '@botbridge/sdk';
import type { ChatLogRow } from '../store/types.js';

/** Maps a plugin's chat-log entry onto the kb_chat_logs row (server time added here). */
export function toChatLogRow(entry: ChatLogEntry): ChatLogRow {
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
