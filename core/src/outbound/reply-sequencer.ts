import { BridgeError } from '../errors.js';
import { Fifo } from '../pipeline/fifo.js';

/** A message's place in its room's reply order; from `open`, passed to `emit` and `finish`. */
export interface Ticket {
  readonly roomKey: string;
}

export interface ReplySequencerOptions<R> {
  /** A reply waits at most this long for earlier messages of its room (pipeline.replyHoldMs). */
  readonly holdMs: number;
  /** Pause between consecutive replies of one message (pipeline.replyGapMs). */
  readonly gapMs: number;
  /** A room's own gap (per-bot settings), read before each reply; `gapMs` when absent. */
  readonly gapFor?: (roomKey: string) => number;
  /** Writes one reply. Awaited: a room's next reply starts only after this settles. */
  readonly send: (item: R) => Promise<void> | void;
  /** false: the room's replies go out as they come (rooms.<key>.ordered). Default: ordered. */
  readonly isOrdered?: (roomKey: string) => boolean;
  /** A send threw or rejected; the room's chain goes on with its next reply. */
  readonly onSendError?: (err: unknown, item: R, roomKey: string) => void;
  /** Monotonic milliseconds, used for the gap; injectable for tests. */
  readonly now?: () => number;
}

export interface ReplySequencerStats {
  /** Rooms with state (open ordered tickets, queued or sending replies). */
  readonly rooms: number;
  /** Replies waiting for earlier messages of their room. */
  readonly held: number;
  /** Replies released and waiting for their room's send chain (includes those being sent). */
  readonly queued: number;
}

/**
 * - `waiting`: behind an unfinished ticket of its room; its replies are held.
 * - `head`: first in its room's order; its replies are released as they come.
 * - `detached`: out of the order (unordered room, skipped by a hold expiry, or shutdown);
 *   its replies are released as they come, still in their own order and with the gap.
 */
type TicketState = 'waiting' | 'head' | 'detached';

class OpenTicket<R> implements Ticket {
  state: TicketState = 'detached';
  finished = false;
  held: R[] = [];
  holdTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  lastSentAt: number | undefined = undefined;
  /** Replies emitted and not yet sent (held or queued); with `finished`, what `onSettled` waits for. */
  unsent = 0;
  constructor(
    readonly roomKey: string,
    public onSettled: (() => void) | undefined,
  ) {}
}

interface Outgoing<R> {
  readonly item: R;
  readonly ticket: OpenTicket<R>;
}

interface RoomState<R> {
  readonly key: string;
  /** Tickets still in order: the head first. */
  readonly order: Fifo<OpenTicket<R>>;
  /** Released replies, sent one at a time. */
  readonly outbox: Fifo<Outgoing<R>>;
  sending: boolean;
  gapTimer: ReturnType<typeof setTimeout> | undefined;
  wake: (() => void) | undefined;
}

/**
 * Keeps the replies of a room in the order of the messages that caused them (PROTOCOL.md §7
 * "Ordering"): the old server ran three messages of a room at once and reordered their replies.
 *
 * Release rule. A ticket's replies go out when every earlier ticket of its room has finished
 * (its replies released before), or when the first held reply of the ticket has waited
 * `holdMs`. On that expiry every earlier ticket is flushed in order (its held replies, if any,
 * go first) and taken out of the order ("detached"): the replies such a ticket emits later go
 * out as they come, in their own order, possibly after replies of later messages. The expired
 * ticket becomes the room's head. With `holdMs: 0` the hold is a zero-delay timer: tickets that
 * finish within the same timer turn still go in order, nothing waits longer.
 *
 * Sending. A room is a serial chain: its next `send` starts after the previous one settled,
 * and between two replies of the same ticket at least `gapMs` pass (the old server slept 1 s
 * between items). Rooms are independent. Room state is dropped as soon as a room has no open
 * ordered ticket and nothing to send, so idle rooms cost nothing.
 */
export class ReplySequencer<R> {
  private readonly rooms = new Map<string, RoomState<R>>();
  private readonly options: ReplySequencerOptions<R>;
  private readonly now: () => number;
  private drainWaiters: (() => void)[] = [];
  private immediate = false;
  private heldCount = 0;
  private queuedCount = 0;

  constructor(options: ReplySequencerOptions<R>) {
    this.options = options;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * On admission, in arrival order: gives the message its place in the room's order.
   * `onSettled` runs once the ticket is finished and every reply it emitted was sent (journal: done).
   */
  open(roomKey: string, onSettled?: () => void): Ticket {
    const ticket = new OpenTicket<R>(roomKey, onSettled);
    if (this.immediate || this.options.isOrdered?.(roomKey) === false) return ticket;
    const room = this.roomOf(roomKey);
    ticket.state = room.order.length === 0 ? 'head' : 'waiting';
    room.order.push(ticket);
    return ticket;
  }

  /** The message's job produced replies (may be called several times; order is kept). */
  emit(ticket: Ticket, replies: readonly R[]): void {
    const t = ownTicket<R>(ticket);
    if (t.finished) throw new BridgeError('BRIDGE_ERR_REPLY_AFTER_DONE');
    if (replies.length === 0) return;
    t.unsent += replies.length;
    if (t.state !== 'waiting') {
      this.enqueue(t, replies);
      return;
    }
    for (const reply of replies) t.held.push(reply);
    this.heldCount += replies.length;
    t.holdTimer ??= setTimeout(() => this.expireHold(t), this.options.holdMs);
  }

  /** The message's job ended (success, error or timeout). Idempotent. */
  finish(ticket: Ticket): void {
    const t = ownTicket<R>(ticket);
    if (t.finished) return;
    t.finished = true;
    settleIfDone(t);
    if (t.state !== 'head') return;
    const room = this.rooms.get(t.roomKey);
    if (room !== undefined) this.advance(room);
  }

  /**
   * Resolves when nothing is held, queued or being sent. Held replies are still released by
   * their rules, so this is bounded by `holdMs` plus the sends. `immediate: true` (shutdown)
   * releases every held reply now in ticket order and switches the sequencer to immediate mode
   * for good: no more holds, no more gaps (a gap being waited is cut short), later tickets are
   * unordered. Replies emitted after the call also delay the promise.
   */
  drain(options: { immediate?: boolean } = {}): Promise<void> {
    if (options.immediate === true) this.releaseAll();
    if (this.quiet()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  stats(): ReplySequencerStats {
    return { rooms: this.rooms.size, held: this.heldCount, queued: this.queuedCount };
  }

  /**
   * Every reply emitted and not yet handed to `send` (held, or queued in its room's chain).
   * A walk over all rooms: for a one-off look at shutdown, not for the hot path.
   */
  *unsent(): IterableIterator<R> {
    for (const room of this.rooms.values()) {
      for (const t of room.order) yield* t.held;
      for (const out of room.outbox) yield out.item;
    }
  }

  private expireHold(t: OpenTicket<R>): void {
    t.holdTimer = undefined;
    const room = this.rooms.get(t.roomKey);
    if (room === undefined || t.state !== 'waiting') return;
    for (let first = room.order.peek(); first !== undefined && first !== t; first = room.order.peek()) {
      room.order.shift();
      if (!first.finished) first.state = 'detached';
      this.release(first);
    }
    t.state = 'head';
    this.release(t);
    this.advance(room);
  }

  /** Retires finished heads; each next head's held replies go out. */
  private advance(room: RoomState<R>): void {
    for (let head = room.order.peek(); head !== undefined && head.finished; head = room.order.peek()) {
      room.order.shift();
      const next = room.order.peek();
      if (next !== undefined) {
        next.state = 'head';
        this.release(next);
      }
    }
    this.disposeIfIdle(room);
  }

  private release(t: OpenTicket<R>): void {
    clearTimeout(t.holdTimer);
    t.holdTimer = undefined;
    if (t.held.length === 0) return;
    const held = t.held;
    t.held = [];
    this.heldCount -= held.length;
    this.enqueue(t, held);
  }

  private releaseAll(): void {
    this.immediate = true;
    for (const room of [...this.rooms.values()]) {
      for (const t of room.order.takeAll()) {
        if (!t.finished) t.state = 'detached';
        this.release(t);
      }
      if (room.wake !== undefined) {
        clearTimeout(room.gapTimer);
        room.wake();
      }
      this.disposeIfIdle(room);
    }
  }

  private enqueue(t: OpenTicket<R>, items: readonly R[]): void {
    const room = this.roomOf(t.roomKey);
    for (const item of items) room.outbox.push({ item, ticket: t });
    this.queuedCount += items.length;
    if (!room.sending) void this.run(room);
  }

  private async run(room: RoomState<R>): Promise<void> {
    room.sending = true;
    for (let next = room.outbox.peek(); next !== undefined; next = room.outbox.peek()) {
      const { ticket } = next;
      if (!this.immediate && ticket.lastSentAt !== undefined) {
        const wait = ticket.lastSentAt + (this.options.gapFor?.(room.key) ?? this.options.gapMs) - this.now();
        if (wait > 0) await this.sleep(room, wait);
      }
      room.outbox.shift();
      try {
        // A reply written at once (the common case) returns nothing: no microtask turn per reply.
        const sending = this.options.send(next.item);
        if (sending !== undefined) await sending;
      } catch (err) {
        this.reportSendError(err, next.item, room.key);
      }
      ticket.lastSentAt = this.now();
      this.queuedCount -= 1;
      ticket.unsent -= 1;
      settleIfDone(ticket);
    }
    room.sending = false;
    this.disposeIfIdle(room);
    this.settleDrain();
  }

  private sleep(room: RoomState<R>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      room.wake = () => {
        room.wake = undefined;
        room.gapTimer = undefined;
        resolve();
      };
      room.gapTimer = setTimeout(room.wake, ms);
    });
  }

  private reportSendError(err: unknown, item: R, roomKey: string): void {
    try {
      this.options.onSendError?.(err, item, roomKey);
    } catch {
      // The reporter's own failure must not stop the room's chain; there is nobody left to tell.
    }
  }

  private roomOf(key: string): RoomState<R> {
    let room = this.rooms.get(key);
    if (room === undefined) {
      room = { key, order: new Fifo(), outbox: new Fifo(), sending: false, gapTimer: undefined, wake: undefined };
      this.rooms.set(key, room);
    }
    return room;
  }

  private disposeIfIdle(room: RoomState<R>): void {
    if (room.order.length > 0 || room.outbox.length > 0 || room.sending) return;
    if (this.rooms.get(room.key) === room) this.rooms.delete(room.key);
  }

  private quiet(): boolean {
    return this.heldCount === 0 && this.queuedCount === 0;
  }

  private settleDrain(): void {
    if (this.drainWaiters.length === 0 || !this.quiet()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function settleIfDone<R>(t: OpenTicket<R>): void {
  if (!t.finished || t.unsent > 0 || t.onSettled === undefined) return;
  const settled = t.onSettled;
  t.onSettled = undefined;
  settled();
}

function ownTicket<R>(ticket: Ticket): OpenTicket<R> {
  if (!(ticket instanceof OpenTicket)) throw new TypeError('not a ticket from ReplySequencer.open()');
  return ticket as OpenTicket<R>;
}
