import type { BridgeSettings, OutgoingReply, SendResult } from '@botbridge/sdk';
import type { EventBus } from '../events/bridge-events.js';
import { Fifo } from '../pipeline/fifo.js';
import { roomKeyOf, sequencerKey } from './outbox-room.js';

export type GovernorSettings = BridgeSettings['replies']['governor'];

/** One device's limits (the bot's overrides over `replies.governor`). */
interface DeviceLimits {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly dailyCap: number;
  readonly failureCooldownMs: number;
}

export interface SendGovernorDeps {
  readonly settings: GovernorSettings;
  /** The room's reply gap (per-bot settings, else pipeline.replyGapMs): the default room gap. */
  readonly replyGapMs: (sequencerKey: string) => number;
  /** The live approved device (its deviceId) a send to this target would be written to, or null. */
  readonly deviceOf: (out: OutgoingReply) => string | null;
  /** At shutdown: keeps a waiting send for the next run (the outbox), or sends it now when it cannot. */
  readonly park: (out: OutgoingReply) => SendResult | Promise<SendResult>;
  readonly events: EventBus;
  readonly now?: () => number;
  readonly random?: () => number;
  /** The day a send counts towards (the cap resets when it changes); default: the server's local date. */
  readonly today?: () => string;
}

class DeviceState {
  tokens: number;
  refilledAt: number;
  day = '';
  sentToday = 0;
  coolUntil = 0;
  constructor(
    readonly limits: DeviceLimits,
    now: number,
  ) {
    this.tokens = limits.burst;
    this.refilledAt = now;
  }

  refill(now: number): void {
    const { burst, ratePerSecond } = this.limits;
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) * ratePerSecond) / 1_000);
    this.refilledAt = now;
  }

  /** When a proactive send may take a token (now or later). */
  tokenAt(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? now : now + ((1 - this.tokens) * 1_000) / this.limits.ratePerSecond;
  }
}

interface Waiting {
  readonly out: OutgoingReply;
  /** Delivers it now (Outbound's own delivery: route, write, or the outbox). */
  readonly deliver: () => SendResult | Promise<SendResult>;
  readonly queuedAt: number;
  readonly resolve: (result: SendResult | Promise<SendResult>) => void;
  /** Drawn once, when the send reaches the head of its room. */
  jitter: number | undefined;
}

/** A bot's rooms whose last send is older than this are forgotten when its map of last sends grows large. */
const LAST_SENT_KEEP_MS = 3_600_000;
const LAST_SENT_PRUNE_AT = 10_000;

/** Per bot: its devices' budgets and its rooms' last sends (nested maps: no key built per reply). */
class BotState {
  readonly devices = new Map<string, DeviceState>();
  /** Last send of any kind per room (`channelId` or `name:<room>`; replies included): a room's gap runs from it. */
  readonly lastSent = new Map<string, number>();
  constructor(readonly limits: DeviceLimits) {}

  device(deviceId: string, now: number): DeviceState {
    let device = this.devices.get(deviceId);
    if (device === undefined) {
      device = new DeviceState(this.limits, now);
      this.devices.set(deviceId, device);
    }
    return device;
  }
}

class RoomState {
  readonly waiting = new Fifo<Waiting>();
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** A send of this room is being delivered (the outbox's insert may take a while). */
  busy = false;
  constructor(
    readonly key: string,
    readonly gapMs: number | undefined,
    readonly jitterMs: number | undefined,
  ) {}
}

/**
 * Paces proactive sends (the push API, schedulers, `bridge.send`) so a phone's KakaoTalk
 * account does not send too much too fast, and keeps them behind replies.
 *
 * It sits in Outbound, where a phone's socket is written (the holder of the connection), so it
 * applies once per send wherever the send came from. Replies to messages never wait here: their
 * order and spacing are the sequencer's (replyHoldMs, replyGapMs); what a reply pays is `sent`:
 * two Map lookups and a Map set, no allocation (bench/micro/governor-sent.ts). They count, though: a reply spends a token of its device (the
 * bucket may go into debt, down to -burst) and restarts its room's gap, so proactive sends use
 * what replies leave. That is "replies first" without a priority queue shared with the sequencer.
 *
 * A proactive send waits in its room's FIFO (bounded: `maxQueuedPerRoom`, `maxQueued`, else
 * `rejected` `queue_full`) until, for the device it would be written to: a token is there, the
 * device is not cooling down after a failed write, and the room's gap plus a jitter has passed
 * since its last send. A device at its daily cap gets `rejected` `daily_cap`. A send whose bot
 * has no live device is not paced: it goes to the outbox at once (`queued`), whose delivery
 * keeps the room gap. Every decision is published as `reply:governed` (delay, or the reason).
 */
export class SendGovernor {
  /** Rooms with waiting proactive sends, by sequencer key. */
  private readonly rooms = new Map<string, RoomState>();
  private readonly bots = new Map<string, BotState>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly today: () => string;
  private queued = 0;
  private closing = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: SendGovernorDeps) {
    this.now = deps.now ?? (() => performance.now());
    this.random = deps.random ?? Math.random;
    this.today = deps.today ?? localDayClock();
  }

  /**
   * A proactive send: `deliver` runs when its turn comes. Resolves with its result once it was
   * sent, queued in the outbox or rejected.
   */
  enqueue(out: OutgoingReply, deliver: () => SendResult | Promise<SendResult>): Promise<SendResult> {
    const key = sequencerKey(out.target);
    const room = this.roomOf(key, out);
    const { maxQueuedPerRoom, maxQueued } = this.deps.settings;
    if (this.closing) return Promise.resolve(this.deps.park(out));
    if (room.waiting.length >= maxQueuedPerRoom || this.queued >= maxQueued) {
      this.disposeIfIdle(room);
      return Promise.resolve(this.reject(out, null, 'queue_full', 0));
    }
    return new Promise<SendResult>((resolve) => {
      room.waiting.push({ out, deliver, queuedAt: this.now(), resolve, jitter: undefined });
      this.queued += 1;
      this.pump(room);
    });
  }

  /**
   * Every write to a phone's socket (replies, proactive sends, outbox deliveries) reports here:
   * it spends a token of the device, counts towards its day, and restarts the room's gap.
   */
  sent(botName: string, deviceId: string, roomKey: string): void {
    const now = this.now();
    const bot = this.botOf(botName);
    const device = bot.device(deviceId, now);
    device.refill(now);
    device.tokens = Math.max(-device.limits.burst, device.tokens - 1);
    this.countDay(device);
    bot.lastSent.set(roomKey, now);
    if (bot.lastSent.size > LAST_SENT_PRUNE_AT) {
      for (const [key, at] of bot.lastSent) if (now - at >= LAST_SENT_KEEP_MS) bot.lastSent.delete(key);
    }
  }

  /** A write to this device failed at its socket: its proactive sends wait `failureCooldownMs`. */
  failed(botName: string, deviceId: string): void {
    const now = this.now();
    const device = this.botOf(botName).device(deviceId, now);
    device.coolUntil = now + device.limits.failureCooldownMs;
  }

  stats(): { queued: number; rooms: number } {
    return { queued: this.queued, rooms: this.rooms.size };
  }

  /**
   * Resolves when no send waits or is in delivery. `immediate` (shutdown): every waiting send
   * is parked now (the outbox keeps it for the next run, its caller gets `queued`), and sends
   * enqueued from now on too.
   */
  drain(options: { immediate?: boolean } = {}): Promise<void> {
    if (options.immediate !== true) return this.rooms.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
    this.closing = true;
    for (const room of this.rooms.values()) {
      clearTimeout(room.timer);
      room.timer = undefined;
      for (const waiting of room.waiting.takeAll()) {
        this.queued -= 1;
        waiting.resolve(this.deps.park(waiting.out));
      }
    }
    for (const room of [...this.rooms.values()]) this.disposeIfIdle(room);
    if (this.rooms.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(room: RoomState): void {
    if (room.timer !== undefined || room.busy) return;
    for (let head = room.waiting.peek(); head !== undefined; head = room.waiting.peek()) {
      const now = this.now();
      const deviceId = this.deps.deviceOf(head.out);
      if (deviceId !== null) {
        const bot = this.botOf(head.out.target.botName);
        const device = bot.device(deviceId, now);
        if (device.limits.dailyCap > 0 && this.countDay(device, 0) >= device.limits.dailyCap) {
          this.take(room);
          head.resolve(this.reject(head.out, deviceId, 'daily_cap', now - head.queuedAt));
          continue;
        }
        head.jitter ??= Math.floor(this.random() * (room.jitterMs ?? this.deps.settings.jitterMs));
        const gap = room.gapMs ?? this.deps.settings.roomGapMs ?? this.deps.replyGapMs(room.key);
        const at = Math.max((bot.lastSent.get(roomKeyOf(head.out.target)) ?? Number.NEGATIVE_INFINITY) + gap + head.jitter, device.coolUntil, device.tokenAt(now));
        if (at > now) {
          room.timer = setTimeout(() => {
            room.timer = undefined;
            this.pump(room);
          }, Math.ceil(at - now));
          return;
        }
      }
      // Its turn (or no live device: the outbox takes it without pacing; its delivery keeps the gap).
      this.take(room);
      this.publish(head.out, deviceId, now - head.queuedAt, null);
      const result = head.deliver();
      if (result instanceof Promise) {
        room.busy = true;
        head.resolve(result);
        // Outbound never rejects by contract; the room goes on either way.
        const next = (): void => {
          room.busy = false;
          this.pump(room);
        };
        result.then(next, next);
        return;
      }
      head.resolve(result);
    }
    this.disposeIfIdle(room);
  }

  private take(room: RoomState): void {
    room.waiting.shift();
    this.queued -= 1;
  }

  private reject(out: OutgoingReply, deviceId: string | null, reason: 'queue_full' | 'daily_cap', delayMs: number): SendResult {
    this.publish(out, deviceId, delayMs, reason);
    return { status: 'rejected', traceId: out.traceId, reason };
  }

  private publish(out: OutgoingReply, deviceId: string | null, delayMs: number, reason: 'queue_full' | 'daily_cap' | null): void {
    const { botName, room } = out.target;
    this.deps.events.publish('reply:governed', {
      traceId: out.traceId,
      botName,
      room,
      deviceId,
      outcome: reason === null ? 'sent' : 'rejected',
      reason,
      delayMs: Math.max(0, delayMs),
    });
  }

  /** Sends of the device today (a new day starts at zero), after adding `add`. */
  private countDay(device: DeviceState, add = 1): number {
    const day = this.today();
    if (device.day !== day) {
      device.day = day;
      device.sentToday = 0;
    }
    device.sentToday += add;
    return device.sentToday;
  }

  private botOf(botName: string): BotState {
    let bot = this.bots.get(botName);
    if (bot === undefined) {
      const s = this.deps.settings;
      const own = s.bots[botName] ?? {};
      bot = new BotState({
        ratePerSecond: own.ratePerSecond ?? s.ratePerSecond,
        burst: own.burst ?? s.burst,
        dailyCap: own.dailyCap ?? s.dailyCap,
        failureCooldownMs: own.failureCooldownMs ?? s.failureCooldownMs,
      });
      this.bots.set(botName, bot);
    }
    return bot;
  }

  private roomOf(key: string, out: OutgoingReply): RoomState {
    let room = this.rooms.get(key);
    if (room === undefined) {
      const s = this.deps.settings;
      const botName = out.target.botName;
      const own = s.rooms[`${botName}/${roomKeyOf(out.target)}`];
      const bot = s.bots[botName];
      room = new RoomState(key, own?.roomGapMs ?? bot?.roomGapMs, own?.jitterMs ?? bot?.jitterMs);
      this.rooms.set(key, room);
    }
    return room;
  }

  /** A room without waiting or delivering sends is forgotten (its last send stays in `lastSent`). */
  private disposeIfIdle(room: RoomState): void {
    if (room.waiting.length > 0 || room.busy || room.timer !== undefined) return;
    if (this.rooms.get(room.key) === room) this.rooms.delete(room.key);
    if (this.rooms.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

/** The server's local date, recomputed only once a local midnight has passed (not a Date per send). */
function localDayClock(): () => string {
  let day = '';
  let endsAt = 0;
  return () => {
    const now = Date.now();
    if (now >= endsAt) {
      const d = new Date(now);
      day = `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
      endsAt = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
    }
    return day;
  };
}
