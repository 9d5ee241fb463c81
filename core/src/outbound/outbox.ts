import type { OutgoingReply, ReplyTarget, SendResult } from '@botbridge/sdk';
import { reasonOf } from '../errors.js';
import type { EventBus, ScopedEvents } from '../events/bridge-events.js';
import type { CoreLogger } from '../logger.js';
import type { OutboxRow, Store } from '../store/types.js';
import { RoomQueue, restored, roomKeyOf, sequencerKey } from './outbox-room.js';

export interface OutboxDeps {
  readonly store: () => Store;
  readonly events: EventBus;
  readonly log: CoreLogger;
  /** The bot's TTL (per-bot `outboxTtlMs`, else replies.outbox.ttlMs), read when a reply is queued. */
  readonly ttlMs: (botName: string) => number;
  /** The room's reply gap (sequencer key), kept between the replies of a backlog too. */
  readonly gapMs: (sequencerKey: string) => number;
  readonly sweepIntervalMs: number;
  readonly sweepBatchSize: number;
  /** Whether the bot has an approved device at all (live or not): a reply for a bot without one is not kept. */
  readonly hasApprovedDevice: (botName: string) => boolean;
  /** Whether a live approved device of the bot could take a reply now. */
  readonly canDeliver: (botName: string) => boolean;
  /**
   * Writes one reply to a live approved device of its bot (publishing `reply:sent`), waiting
   * while that socket's output is backed up; false when no such device is left.
   */
  readonly write: (out: OutgoingReply) => Promise<boolean>;
  readonly now?: () => number;
  /**
   * Cluster mode: this node's id. Rows are queued under it, and this node reads, delivers and
   * expires only its own (a dead node's are moved to it by `adopt`). Undefined: every row.
   */
  readonly nodeId?: string;
  /**
   * Cluster mode: a row's reply was just written (its delete waits for the end of the delivery
   * batch), told at once so the other nodes know it even if this node dies before the delete
   * (cluster/done-notices.ts).
   */
  readonly delivered?: (rowId: number) => void;
  /** Cluster mode: another node announced this row delivered (an adopted row): deleted, not delivered again. */
  readonly deliveredElsewhere?: (rowId: number) => boolean;
}

export interface OutboxStats {
  /** Replies waiting for a device, all rooms. */
  readonly queued: number;
  /** Rooms with waiting replies. */
  readonly rooms: number;
}

/** Rooms expired per sweep at most (the rest wait for the next sweep). */
const MAX_ROOMS_PER_SWEEP = 100;
/** Rows read per delivery step: also the most replies a crash between write and delete can repeat. */
const DELIVERY_BATCH = 20;

/**
 * Replies for a bot with no live device, kept per (bot, room) in the store (`botbridge_outbox`)
 * and delivered in order when a device of the bot is back, up to a TTL.
 *
 * Order. Outbound asks `holds` before routing any reply: while a room has rows here, a new
 * reply to it is queued behind them even if a device is live, so it cannot overtake the
 * backlog; the queueing step then schedules a delivery. Every store step of a room (insert,
 * delivery, expiry) runs in the room's chain, one at a time, so a delivery step sees every
 * insert queued before it, and an expiry never races a delivery of the same row. The room
 * counts are kept in memory (loaded at start), so `holds` is a Map lookup.
 *
 * Durability. `queued` is returned only after the row is in the store (the journal may then mark
 * the message done); a failed insert is `rejected`/`no_client`, as before the outbox. A row is
 * deleted after it was written to a socket, per batch: a crash between the two repeats at most
 * one batch on the next start (in cluster mode an adopter skips the rows the dead node's
 * delivered notices name: `delivered`, `deliveredElsewhere`).
 *
 * Delivery starts when a device of the bot completes its handshake (the `connection:handshake`
 * fact, acted on in the next turn, once the session is registered and its handshakeComplete
 * written), and on every sweep for bots that have a live approved device (an approval granted
 * later, a delivery interrupted by a disconnect). The sweep also expires rows past their TTL in
 * bounded batches, publishing `reply:result` `expired` for each and logging one line per sweep.
 */
export class Outbox {
  private readonly rooms = new Map<string, RoomQueue>();
  /** Replies this process queued, by row id: their message context (a row restored after a restart has none). */
  private readonly live = new Map<number, OutgoingReply>();
  /** Rows delivered or expired whose delete failed: never delivered twice by this process. */
  private readonly gone = new Set<number>();
  private readonly now: () => number;
  private total = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private subscriptions: ScopedEvents | undefined;
  private sweeping = false;
  private closed = false;
  /** Expired since the last log line, in total and per bot. */
  private expiredSinceLog = 0;
  private readonly expiredByBot = new Map<string, number>();

  constructor(private readonly deps: OutboxDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Loads the rooms with waiting rows (a previous run's), then listens for devices and sweeps. */
  async start(): Promise<void> {
    for (const row of await this.deps.store().outboxRooms(this.deps.nodeId)) {
      const room = this.roomOf(row.botName, row.roomKey);
      room.queued += row.queued;
      this.total += row.queued;
    }
    if (this.total > 0) this.deps.log.info({ queued: this.total, rooms: this.rooms.size }, 'outbox: replies of the previous run wait for their devices');
    this.watchHandshakes();
    this.timer = setInterval(() => void this.sweep(), this.deps.sweepIntervalMs);
    this.timer.unref();
  }

  /** Whether replies to this room must queue behind earlier ones. */
  holds(target: ReplyTarget): boolean {
    // Asked for every reply: with no room held (the usual state) no key is built.
    if (this.rooms.size === 0) return false;
    return (this.rooms.get(sequencerKey(target))?.queued ?? 0) > 0;
  }

  /**
   * Whether a reply for this bot may be kept: only for a bot with an approved device. A bot
   * nobody approved (a misspelt name, a device not yet approved) gets `no_client` at once
   * instead of a result that could only ever turn into `expired`.
   */
  accepts(botName: string): boolean {
    return this.deps.hasApprovedDevice(botName);
  }

  /** Stores the reply for later delivery; `queued` once it is durable. Never throws. */
  enqueue(out: OutgoingReply): Promise<SendResult> {
    const { target } = out;
    const room = this.roomOf(target.botName, roomKeyOf(target));
    room.queued += 1;
    room.inserting += 1;
    this.total += 1;
    this.watchHandshakes();
    return this.step(room, async (): Promise<SendResult> => {
      const queuedAt = this.now();
      try {
        const id = await this.deps.store().insertOutbox({
          botName: target.botName,
          roomKey: room.roomKey,
          room: target.room,
          channelId: target.channelId,
          deviceId: target.deviceId ?? null,
          // A scheduled reply keeps its packet kind across restarts in the row's JSON (outbox-room.ts, restored).
          reply: JSON.stringify(out.scheduled === true ? { ...out.reply, scheduled: true } : out.reply),
          traceId: out.traceId,
          index: out.index,
          queuedAt: new Date(queuedAt),
          expiresAt: new Date(queuedAt + this.deps.ttlMs(target.botName)),
          ...(this.deps.nodeId === undefined ? {} : { nodeId: this.deps.nodeId }),
        });
        room.inserting -= 1;
        if (id > 0) this.live.set(id, out);
      } catch (error) {
        room.inserting -= 1;
        this.forget(room, 1);
        this.deps.log.error({ botName: target.botName, room: target.room, traceId: out.traceId, err: reasonOf(error), code: 'BRIDGE_ERR_REPLY_NO_CLIENT' }, 'reply not sent: no live client, and the outbox could not store it');
        return { status: 'rejected', traceId: out.traceId, reason: 'no_client' };
      }
      // Queued behind a backlog while a device is live, or the device came back during the insert.
      if (this.deps.canDeliver(target.botName)) this.scheduleDelivery(room);
      return { status: 'queued', traceId: out.traceId };
    });
  }

  /**
   * Cluster failover: takes a dead node's queued replies (moved to this node by CAS per room, so
   * one survivor gets each room's rows) and delivers them like its own. Returns the rows taken.
   */
  async adopt(deadNodeId: string): Promise<number> {
    const nodeId = this.deps.nodeId;
    if (this.closed || nodeId === undefined || deadNodeId === nodeId) return 0;
    let taken = 0;
    for (const row of await this.deps.store().claimOutbox(deadNodeId, nodeId)) {
      const room = this.roomOf(row.botName, row.roomKey);
      room.queued += row.queued;
      this.total += row.queued;
      taken += row.queued;
      if (this.deps.canDeliver(row.botName)) this.scheduleDelivery(room);
    }
    if (taken > 0) {
      this.watchHandshakes();
      this.deps.log.warn({ deadNodeId, queued: taken }, 'outbox: took over a dead node\'s queued replies');
    }
    return taken;
  }

  /** Delivers every waiting room of the bot (a device of it is back). */
  deliverBot(botName: string): void {
    if (this.closed || !this.deps.canDeliver(botName)) return;
    for (const room of this.rooms.values()) if (room.botName === botName && room.queued > 0) this.scheduleDelivery(room);
  }

  stats(): OutboxStats {
    let rooms = 0;
    for (const room of this.rooms.values()) if (room.queued > 0) rooms += 1;
    return { queued: this.total, rooms };
  }

  /**
   * Expires rows past their TTL (at most sweepBatchSize per call) in the rooms one indexed query
   * names, retries deliveries for bots with a live approved device, and logs what expired since
   * the last line (here or in a delivery). Returns how many rows this sweep expired.
   */
  async sweep(): Promise<number> {
    if (this.sweeping || this.closed) return 0;
    this.sweeping = true;
    let budget = this.deps.sweepBatchSize;
    try {
      const due = await this.deps.store().outboxRoomsWithExpired(new Date(this.now()), MAX_ROOMS_PER_SWEEP, this.deps.nodeId);
      for (const { botName, roomKey } of due) {
        if (budget <= 0 || this.closed) break;
        const room = this.roomOf(botName, roomKey);
        const limit = budget;
        budget -= await this.step(room, () => this.expireRoom(room, limit));
      }
      for (const room of [...this.rooms.values()]) if (room.queued > 0 && this.deps.canDeliver(room.botName)) this.scheduleDelivery(room);
    } catch (error) {
      this.deps.log.error({ err: reasonOf(error) }, 'outbox: expiry sweep failed; retried at the next sweep');
    } finally {
      this.sweeping = false;
    }
    this.logExpired();
    return this.deps.sweepBatchSize - budget;
  }

  /** One line per sweep at most: the sweep interval is the rate limit. */
  private logExpired(): void {
    if (this.expiredSinceLog === 0) return;
    const byBot = Object.fromEntries(this.expiredByBot);
    this.deps.log.warn(
      { expired: this.expiredSinceLog, byBot, stillQueued: this.total, code: 'BRIDGE_ERR_REPLY_EXPIRED' },
      'outbox: replies expired before a device of their bot came back',
    );
    this.expiredSinceLog = 0;
    this.expiredByBot.clear();
  }

  /** Stops listening and sweeping; resolves when every room's running step has ended (before the store closes). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.subscriptions?.dispose();
    this.subscriptions = undefined;
    await Promise.all([...this.rooms.values()].map((room) => room.chain));
  }

  private scheduleDelivery(room: RoomQueue): void {
    if (room.flushScheduled || this.closed) return;
    room.flushScheduled = true;
    void this.step(room, async () => {
      room.flushScheduled = false;
      await this.deliverRoom(room);
    });
  }

  /** Runs in the room's chain. Stops when the room is empty, no device is left, or the store fails. */
  private async deliverRoom(room: RoomQueue): Promise<void> {
    const store = this.deps.store();
    let lastSentAt: number | undefined;
    // Inserts chained behind this step are not in the store yet: they schedule their own delivery.
    while (room.queued - room.inserting > 0 && !this.closed && this.deps.canDeliver(room.botName)) {
      let rows: OutboxRow[];
      try {
        rows = await store.outboxOfRoom(room.botName, room.roomKey, DELIVERY_BATCH + this.gone.size, this.deps.nodeId);
      } catch (error) {
        this.deps.log.error({ botName: room.botName, err: reasonOf(error) }, 'outbox: could not read queued replies; retried at the next sweep');
        return;
      }
      if (rows.length === 0) {
        // Deleted elsewhere (another process on the same store, an operator): nothing waits after all.
        this.forget(room, room.queued - room.inserting);
        return;
      }
      const done: number[] = [];
      const expired: OutboxRow[] = [];
      let stalled = false;
      let deliveredElsewhere = 0;
      for (const row of rows) {
        if (this.gone.has(row.id)) {
          done.push(row.id);
          continue;
        }
        // Adopted from a node that wrote it and died before its delete (its notice says so).
        if (this.deps.deliveredElsewhere?.(row.id) === true) {
          done.push(row.id);
          deliveredElsewhere += 1;
          continue;
        }
        if (row.expiresAt.getTime() <= this.now()) {
          expired.push(row);
          continue;
        }
        if (this.closed) {
          stalled = true;
          break;
        }
        const out = this.live.get(row.id) ?? restored(row);
        if (out === null) {
          this.deps.log.error({ botName: row.botName, traceId: row.traceId }, 'outbox: unreadable row; expiring it');
          expired.push(row);
          continue;
        }
        const gap = this.deps.gapMs(room.key);
        if (lastSentAt !== undefined && gap > 0) {
          const wait = lastSentAt + gap - this.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        if (!(await this.deps.write(out))) {
          stalled = true;
          break;
        }
        this.deps.delivered?.(row.id);
        lastSentAt = this.now();
        done.push(row.id);
      }
      if (deliveredElsewhere > 0) {
        this.deps.log.warn({ botName: room.botName, roomKey: room.roomKey, alreadyDelivered: deliveredElsewhere }, 'outbox: adopted replies the dead node had delivered; deleted, not delivered again');
      }
      await this.remove(room, done, expired);
      if (stalled) return;
    }
  }

  /** Runs in the room's chain. */
  private async expireRoom(room: RoomQueue, limit: number): Promise<number> {
    let rows: { id: number; traceId: string; room: string }[];
    try {
      rows = await this.deps.store().expiredOutbox(room.botName, room.roomKey, new Date(this.now()), limit, this.deps.nodeId);
    } catch (error) {
      this.deps.log.error({ botName: room.botName, err: reasonOf(error) }, 'outbox: expiry sweep failed; retried at the next sweep');
      return 0;
    }
    await this.remove(room, [], rows);
    return rows.length;
  }

  /** Deletes delivered and expired rows, publishes each expiry once, and updates the counts. */
  private async remove(room: RoomQueue, delivered: readonly number[], expired: readonly { id: number; traceId: string; room: string }[]): Promise<void> {
    const ids = [...delivered, ...expired.map((row) => row.id)];
    if (ids.length === 0) return;
    for (const row of expired) {
      if (this.gone.has(row.id)) continue;
      this.deps.events.publish('reply:result', { traceId: row.traceId, botName: room.botName, room: row.room, status: 'expired', reason: null, plugin: null });
      this.expiredSinceLog += 1;
      this.expiredByBot.set(room.botName, (this.expiredByBot.get(room.botName) ?? 0) + 1);
    }
    const fresh = ids.filter((id) => !this.gone.has(id));
    for (const id of fresh) {
      this.live.delete(id);
      this.gone.add(id);
    }
    this.forget(room, fresh.length);
    try {
      await this.deps.store().deleteOutbox(ids);
      for (const id of ids) this.gone.delete(id);
    } catch (error) {
      // Kept in `gone`: skipped (and deleted again) by the next step; a restart may repeat them.
      this.deps.log.error({ botName: room.botName, rows: ids.length, err: reasonOf(error) }, 'outbox: could not delete delivered or expired rows');
    }
  }

  private forget(room: RoomQueue, count: number): void {
    const n = Math.min(count, room.queued);
    room.queued -= n;
    this.total -= n;
    this.disposeIfIdle(room);
    this.watchHandshakes();
  }

  /**
   * Listens to `connection:handshake` only while something waits: with an empty outbox the fact
   * has no subscriber on our account, so it costs nothing (EventBus.publish's fast path).
   */
  private watchHandshakes(): void {
    const wanted = this.total > 0 && !this.closed;
    if (wanted === (this.subscriptions !== undefined)) return;
    if (!wanted) {
      this.subscriptions?.dispose();
      this.subscriptions = undefined;
      return;
    }
    this.subscriptions = this.deps.events.scope((error) => this.deps.log.error({ err: reasonOf(error) }, 'outbox: handshake listener failed'));
    this.subscriptions.subscribe('connection:handshake', ({ botName }) => {
      // The fact precedes the session's registration and its handshakeComplete line: act next turn.
      if (this.hasBot(botName)) setImmediate(() => this.deliverBot(botName));
    });
  }

  /** A room leaves the map only with nothing queued and no step running, so a room never has two chains. */
  private disposeIfIdle(room: RoomQueue): void {
    if (room.queued === 0 && room.steps === 0 && this.rooms.get(room.key) === room) this.rooms.delete(room.key);
  }

  /** Chains `work` after the room's previous step; a failed step does not stop the chain. */
  private step<T>(room: RoomQueue, work: () => Promise<T>): Promise<T> {
    room.steps += 1;
    const run = room.chain.then(work).finally(() => {
      room.steps -= 1;
      this.disposeIfIdle(room);
    });
    room.chain = run.catch((error: unknown) => this.deps.log.error({ botName: room.botName, err: reasonOf(error) }, 'outbox step failed'));
    return run;
  }

  private roomOf(botName: string, roomKey: string): RoomQueue {
    const key = `${botName}\u0000${roomKey}`;
    let room = this.rooms.get(key);
    if (room === undefined) {
      room = new RoomQueue(key, botName, roomKey);
      this.rooms.set(key, room);
    }
    return room;
  }

  private hasBot(botName: string): boolean {
    for (const room of this.rooms.values()) if (room.botName === botName && room.queued > 0) return true;
    return false;
  }
}
