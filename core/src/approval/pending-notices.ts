/**
 * The operator's hints about what waits for approval. A message in a pending room is dropped
 * silently by design (the room is not answered), which left operators with no clue why an
 * approved bot said nothing; these lines say which command approves it. Rate-limited per
 * subject so a busy pending room writes one line per interval, not one per message.
 */

/** One hint per room (or device) per this interval. */
export const PENDING_NOTICE_INTERVAL_MS = 10 * 60_000;
/** Subjects remembered at most; the oldest is forgotten first (a flood of new rooms stays bounded). */
const MAX_REMEMBERED = 10_000;

/** Quotes a shell word when it needs it (room keys may be `name:<room name>` with spaces, Korean, quotes). */
export function shellWord(word: string): string {
  return /^[\w.:@%+=,/-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The exact command that approves a room or a device. */
export function approveCommand(kind: 'rooms' | 'devices', botName: string, id: string): string {
  return `npx botbridge ${kind} approve ${shellWord(botName)} ${shellWord(id)}`;
}

export class PendingNotices {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly intervalMs: number = PENDING_NOTICE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `key` has not been noticed within the interval (and records it now). */
  due(key: string): boolean {
    const at = this.now();
    const previous = this.last.get(key);
    if (previous !== undefined && at - previous < this.intervalMs) return false;
    // Re-inserted so the Map's order is oldest notice first.
    this.last.delete(key);
    this.last.set(key, at);
    if (this.last.size > MAX_REMEMBERED) this.last.delete(this.last.keys().next().value as string);
    return true;
  }
}
