export { chatLog } from './plugin.js';
export { chatLogConfigSchema } from './config.js';
export type { ChatLogConfig, ChatLogConfigInput } from './config.js';
export { classify, directiveOf, isMeaningful, MAX_DIRECTIVE_LENGTH } from './classify.js';
export type { Classification, MessageKind } from './classify.js';
export { entryForReceived, entryForReply, replyText } from './chat-log-entry.js';
export type { ChatLogEntry } from './chat-log-entry.js';
