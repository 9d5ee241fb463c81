import type { OutgoingReply, Reply, ReplyTarget } from '@botbridge/sdk';
import type { OutboxRow } from '../store/types.js';

/** One (bot, room) of the outbox: its counts and the chain its store steps run in (outbox.ts). */
export class RoomQueue {
  /** Rows of this room in the store (queued, not yet delivered or expired), including inserts in flight. */
  queued = 0;
  /** Inserts chained and not yet run: counted in `queued` (so `holds` sees them) but not readable yet. */
  inserting = 0;
  /** Every store step of the room runs in this chain, one at a time (see Outbox's class comment). */
  chain: Promise<unknown> = Promise.resolve();
  flushScheduled = false;
  /** Steps chained and not finished. */
  steps = 0;
  constructor(
    readonly key: string,
    readonly botName: string,
    readonly roomKey: string,
  ) {}
}

/** The room as admission keys it: channelId, or `name:<room>` without one. */
export function roomKeyOf(target: ReplyTarget): string {
  return target.channelId ?? `name:${target.room}`;
}

export function sequencerKey(target: ReplyTarget): string {
  return `${target.botName}\u0000${roomKeyOf(target)}`;
}

/** A row queued by an earlier process: no message context any more (a proactive-looking reply). */
export function restored(row: OutboxRow): OutgoingReply | null {
  let stored: Reply & { scheduled?: unknown };
  try {
    stored = JSON.parse(row.reply) as Reply & { scheduled?: unknown };
  } catch {
    return null;
  }
  if (stored === null || typeof stored !== 'object' || (stored.kind !== 'text' && stored.kind !== 'media')) return null;
  // `scheduled` rides in the row's JSON beside the Reply (outbox.ts, enqueue); it is not part of the Reply.
  const { scheduled, ...reply } = stored;
  const out: OutgoingReply = {
    reply: reply as Reply,
    target: { botName: row.botName, room: row.room, channelId: row.channelId, deviceId: row.deviceId },
    message: null,
    traceId: row.traceId,
    index: row.index,
  };
  return scheduled === true ? { ...out, scheduled: true } : out;
}
