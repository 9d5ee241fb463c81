import { Fifo } from './fifo.js';

/**
 * Where a lane is. A lane is in at most one list, and a lane with queued work and a free room
 * slot is always in one of them:
 * - `ready`: in the round-robin ring, may start its next job;
 * - `parked`: its bot is at its limit; waits in the bot's parked list;
 * - `idle`: in no list (empty, or all its room slots busy).
 */
type LaneState = 'idle' | 'ready' | 'parked';

export interface Lane<T> {
  readonly key: string;
  readonly botName: string;
  readonly roomKey: string;
  readonly limit: number;
  readonly bot: BotSlots<T>;
  readonly queue: Fifo<T>;
  running: number;
  state: LaneState;
}

interface BotSlots<T> {
  readonly name: string;
  running: number;
  lanes: number;
  readonly parked: Fifo<Lane<T>>;
}

export interface RoomLanesOptions<T = unknown> {
  readonly perBot: number;
  readonly perRoom: number;
  /** Per-room override; read once when a room's lane is created (a lane lives while it has work). */
  readonly roomConcurrency?: (botName: string, roomKey: string) => number | undefined;
  /** A queued item became its room's next to start (room order and room limit allow it). */
  readonly onRunnable?: (item: T) => void;
}

// Cannot occur in a bot name or room key taken from a chat packet.
const SEP = '\u0000';

/**
 * Per-room FIFO lanes with per-room and per-bot limits and round-robin fairness between rooms.
 * The global limit and pausing belong to the caller: it asks `take()` for the next job only
 * while it has a free global slot.
 *
 * Fairness: each turn of the ring starts at most one job per lane, so a room with a thousand
 * queued jobs delays another room's job by at most one start per runnable lane ahead of it.
 * A lane blocked by its bot's limit is parked on that bot and not rescanned; each ended job of
 * the bot unparks one lane. Invariant: while a bot has parked lanes, its running jobs plus its
 * lanes in the ring are at least its limit, so parked lanes are never forgotten.
 */
export class RoomLanes<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  private readonly bots = new Map<string, BotSlots<T>>();
  private readonly ready = new Fifo<Lane<T>>();
  private readonly perBot: number;
  private readonly perRoom: number;
  private readonly roomConcurrency: RoomLanesOptions['roomConcurrency'];
  private readonly onRunnable: RoomLanesOptions<T>['onRunnable'];
  private queuedCount = 0;

  constructor(options: RoomLanesOptions<T>) {
    this.perBot = Math.max(1, options.perBot);
    this.perRoom = Math.max(1, options.perRoom);
    this.roomConcurrency = options.roomConcurrency;
    this.onRunnable = options.onRunnable;
  }

  /** Jobs waiting (not running). */
  get queued(): number {
    return this.queuedCount;
  }

  /** Rooms with queued or running jobs. */
  get activeRooms(): number {
    return this.lanes.size;
  }

  enqueue(botName: string, roomKey: string, item: T): void {
    const lane = this.laneOf(botName, roomKey);
    lane.queue.push(item);
    this.queuedCount += 1;
    if (lane.state === 'idle' && lane.running < lane.limit) this.makeReady(lane);
  }

  /** The next job allowed by the room and bot limits, already counted as running; its lane for `release`. */
  take(): { item: T; lane: Lane<T> } | undefined {
    for (let lane = this.ready.shift(); lane !== undefined; lane = this.ready.shift()) {
      lane.state = 'idle';
      if (lane.bot.running >= this.perBot) {
        lane.state = 'parked';
        lane.bot.parked.push(lane);
        continue;
      }
      const item = lane.queue.shift() as T;
      this.queuedCount -= 1;
      lane.running += 1;
      lane.bot.running += 1;
      if (lane.queue.length > 0 && lane.running < lane.limit) this.makeReady(lane);
      return { item, lane };
    }
    return undefined;
  }

  /** A job of `lane` ended (success, failure, timeout or abort): frees its room and bot slot. */
  release(lane: Lane<T>): void {
    lane.running -= 1;
    const bot = lane.bot;
    bot.running -= 1;
    if (lane.state === 'idle') {
      if (lane.queue.length > 0) this.makeReady(lane);
      else if (lane.running === 0) this.dropLane(lane);
    }
    const parked = bot.parked.shift();
    if (parked !== undefined) this.makeReady(parked);
  }

  /** Removes every queued job (oldest first within a room); running jobs keep their slots. */
  takeAllQueued(): T[] {
    this.ready.takeAll();
    for (const bot of this.bots.values()) bot.parked.takeAll();
    const all: T[] = [];
    for (const lane of [...this.lanes.values()]) {
      lane.state = 'idle';
      for (const item of lane.queue.takeAll()) all.push(item);
      if (lane.running === 0) this.dropLane(lane);
    }
    this.queuedCount = 0;
    return all;
  }

  runningPerBot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const bot of this.bots.values()) if (bot.running > 0) out[bot.name] = bot.running;
    return out;
  }

  /** Only for a lane with queued work: its head may start as soon as a global and a bot slot are free. */
  private makeReady(lane: Lane<T>): void {
    lane.state = 'ready';
    this.ready.push(lane);
    this.onRunnable?.(lane.queue.peek() as T);
  }

  private laneOf(botName: string, roomKey: string): Lane<T> {
    const key = botName + SEP + roomKey;
    let lane = this.lanes.get(key);
    if (lane !== undefined) return lane;
    let bot = this.bots.get(botName);
    if (bot === undefined) {
      bot = { name: botName, running: 0, lanes: 0, parked: new Fifo() };
      this.bots.set(botName, bot);
    }
    const override = this.roomConcurrency?.(botName, roomKey);
    const limit = override !== undefined && override >= 1 ? Math.floor(override) : this.perRoom;
    lane = { key, botName, roomKey, limit, bot, queue: new Fifo(), running: 0, state: 'idle' };
    bot.lanes += 1;
    this.lanes.set(key, lane);
    return lane;
  }

  /** Only for a lane with nothing queued or running, which is in no list. */
  private dropLane(lane: Lane<T>): void {
    this.lanes.delete(lane.key);
    lane.bot.lanes -= 1;
    if (lane.bot.lanes === 0) this.bots.delete(lane.bot.name);
  }
}
