import type { ChatMessage } from '@botbridge/sdk';

/** One administrator of a bot: a KakaoTalk user hash, optionally limited to one room. */
export interface AdminEntry {
  readonly userHash: string;
  /** A channelId, or `*` for every room of the bot. */
  readonly channelId: string;
}

/** Administrators by botName. */
export type AdminTable = Readonly<Record<string, readonly AdminEntry[]>>;

export const ANY_CHANNEL = '*';

/**
 * Whether the sender of `message` administers its bot in its room. Identity is the userHash only:
 * sender names are chosen by users and trivially spoofed. Messages without a userHash (and the
 * legacy twin, whose userHash is random) are never an admin's.
 */
export function isAdmin(admins: AdminTable, message: Pick<ChatMessage, 'botName' | 'userHash' | 'channelId'>): boolean {
  const { userHash, channelId } = message;
  if (userHash === null || userHash.length === 0) return false;
  const entries = Object.hasOwn(admins, message.botName) ? admins[message.botName] : undefined;
  if (entries === undefined) return false;
  return entries.some(
    (entry) => entry.userHash === userHash && (entry.channelId === ANY_CHANNEL || entry.channelId === channelId),
  );
}
