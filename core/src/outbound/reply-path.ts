import type { OutgoingReply, Reply, ReplyTarget, SendOptions, SendResult } from '@botbridge/sdk';
import { BridgeError, isBridgeError, reasonOf } from '../errors.js';
import { eventTime, type EventBus } from '../events/bridge-events.js';
import type { BridgeHooks } from '../hooks.js';
import type { CoreLogger } from '../logger.js';
import { TraceIds } from '../pipeline/trace-ids.js';
import type { Outbound } from './outbound.js';
import { DeviceReplyWatch } from './device-reply-watch.js';
import { droppedBy } from './reply-drops.js';
import { ReplySequencer, type ReplySequencerStats, type Ticket } from './reply-sequencer.js';

declare const ticketBrand: unique symbol;

/**
 * A message's (or a proactive send's) place in its room's reply order. Opaque outside
 * `outbound/`: admission gets one from `open` and hands it back; only ReplyPath reads it.
 */
export interface ReplyTicket {
  readonly [ticketBrand]: true;
}

/** A job's cancellation as the reply path needs it (the dispatcher's JobAbort fits). */
export interface AbortWatch {
  readonly aborted: boolean;
  readonly reason: unknown;
  onAbort(listener: () => void): void;
}

/** What became of every reply of one ticket, once it is finished and none is pending. */
export interface TicketSettlement {
  /** false: the job never ran (abandoned at shutdown), so it produced no reply. */
  readonly processed: boolean;
  /** The results collected since `settled` was first asked for, in the order they were decided. */
  readonly results: readonly SendResult[];
}

/** The outcome of one `reply` call. `results` only when asked for (ctx.reply, send). */
export interface ReplyBatch {
  /** Replies that passed beforeReply and validation and are now in the room's order. */
  readonly emitted: number;
  readonly results: Promise<readonly SendResult[]> | undefined;
}

class OpenTicket {
  /** Emitted replies not delivered yet. */
  pending = 0;
  /** Finished: no more replies (the job ended, was aborted, or never ran). */
  released = false;
  processed = true;
  /** Some reply of this ticket reached beforeReply's far side (emitted or refused). */
  replied = false;
  results: SendResult[] | undefined = undefined;
  waiters: ((settlement: TicketSettlement) => void)[] | undefined = undefined;
  /** `onSettled`'s listener (admission's journal done mark): called in `settle`, no promise. */
  listener: ((processed: boolean) => void) | undefined = undefined;
  constructor(readonly order: Ticket) {}
}

/** One `reply` call's results, filled slot by slot as its replies are decided (a class, not closures per reply). */
class ResultSlots {
  constructor(
    readonly decided: (SendResult | undefined)[],
    private open: number,
    private readonly resolve: (results: readonly SendResult[]) => void,
  ) {}

  fill(index: number, result: SendResult): void {
    this.decided[index] = result;
    if (--this.open === 0) this.resolve(this.decided as SendResult[]);
  }
}

interface Queued {
  readonly out: OutgoingReply;
  readonly ticket: OpenTicket;
  /** Where this reply's result goes when the caller asked for results. */
  readonly slots: ResultSlots | undefined;
  readonly slot: number;
}

export interface ReplyPathDeps {
  readonly outbound: Outbound;
  readonly hooks: BridgeHooks;
  readonly log: CoreLogger;
  readonly events: EventBus;
  readonly holdMs: number;
  readonly gapMs: number;
  readonly gapFor?: (roomKey: string) => number;
  readonly isOrdered?: (roomKey: string) => boolean;
}

/**
 * The one owner of replies: a room ticket, `beforeReply`, validation, the room's order
 * (ReplySequencer) and delivery (Outbound), for replies to a message and proactive sends alike.
 * Every reply ends in exactly one SendResult, counted here (`replies{<status>}`,
 * `replies_rejected{<reason>}`). `queued` (the outbox stored it for an offline device) is final
 * for the caller and settles the ticket: the reply is durable, so the journal may mark the
 * message done; its later delivery is a `reply:sent`, its expiry a `reply:result` `expired`
 * published by the outbox.
 *
 * Finishing a ticket. `finish` is idempotent and called by the message job's `finally` (the one
 * place outside this module), by `close` for jobs that never ran, and by this module itself: a
 * job's abort (processing timeout, shutdown) finishes its ticket at once through `watch`,
 * because the worker may hang (e.g. in the store) and later messages of the room must not wait
 * for its `finally`. After that its replies are refused (BRIDGE_ERR_REPLY_AFTER_DONE), as they
 * would be after the `finally`.
 */
export class ReplyPath {
  private readonly sequencer: ReplySequencer<Queued>;
  private readonly proactiveTraces = new TraceIds();
  /** Shutdown only (see watchDevices); null while the bridge runs, so replies pay one null check. */
  private deviceWatch: DeviceReplyWatch<Queued> | null = null;

  constructor(private readonly deps: ReplyPathDeps) {
    this.sequencer = new ReplySequencer<Queued>({
      holdMs: deps.holdMs,
      gapMs: deps.gapMs,
      ...(deps.gapFor ? { gapFor: deps.gapFor } : {}),
      ...(deps.isOrdered ? { isOrdered: deps.isOrdered } : {}),
      send: (queued) => this.deliver(queued),
    });
  }

  /** On admission, in arrival order: `roomKey` is `<botName>\0<channelId or name:room>`. */
  open(roomKey: string): ReplyTicket {
    return new OpenTicket(this.sequencer.open(roomKey)) as unknown as ReplyTicket;
  }

  /**
   * When the job starts: its abort finishes the ticket at once (see the class comment). A job
   * the shutdown aborted before it replied anything did not happen as far as the phone can tell:
   * its ticket settles unprocessed, so the journal keeps the message for the next start's replay
   * (a job that had replied is done: replaying it would repeat its replies).
   */
  watch(ticket: ReplyTicket, abort: AbortWatch): void {
    // Not a named const: under tsx (keepNames) a named closure costs a defineProperty per job.
    if (abort.aborted) this.finishAborted(ticket, abort);
    else abort.onAbort(() => this.finishAborted(ticket, abort));
  }

  private finishAborted(ticket: ReplyTicket, abort: AbortWatch): void {
    this.finish(ticket, !(isBridgeError(abort.reason, 'BRIDGE_ERR_SHUTDOWN') && !own(ticket).replied));
  }

  /** The ticket gets no more replies. Idempotent; `processed: false` for a job that never ran. */
  finish(ticket: ReplyTicket, processed = true): void {
    const t = own(ticket);
    if (t.released) return;
    t.released = true;
    t.processed = processed;
    this.sequencer.finish(t.order);
    if (t.pending === 0) this.settle(t);
  }

  /** Finished without its job having run or replied (abandoned or aborted by the shutdown): the journal keeps it. */
  isUnprocessed(ticket: ReplyTicket): boolean {
    const t = own(ticket);
    return t.released && !t.processed;
  }

  /**
   * Resolves once the ticket is finished and each of its replies was handed to the socket or
   * definitively not (the journal's "done"). Ask before the job runs to see every result.
   */
  settled(ticket: ReplyTicket): Promise<TicketSettlement> {
    const t = own(ticket);
    if (t.released && t.pending === 0) return Promise.resolve({ processed: t.processed, results: t.results ?? [] });
    t.results ??= [];
    return new Promise((resolve) => (t.waiters ??= []).push(resolve));
  }

  /**
   * `settled` for a caller that needs only `processed`, once per message (admission's journal
   * done mark): `listener` is called when the ticket settles (at once if it has), with no
   * promise, results list or microtask per message. One listener per ticket.
   */
  onSettled(ticket: ReplyTicket, listener: (processed: boolean) => void): void {
    const t = own(ticket);
    if (t.released && t.pending === 0) {
      listener(t.processed);
      return;
    }
    if (t.listener !== undefined) throw new Error('a reply ticket takes one onSettled listener');
    t.listener = listener;
  }

  /**
   * Runs `beforeReply` and validation on each reply, then puts the survivors in the ticket's
   * place in the room's order. Throws BRIDGE_ERR_REPLY_AFTER_DONE once the ticket is finished.
   * `results` (when `wantResults`) resolves with one result per reply, in the given order.
   * `hooks`: the plugin set of the message's job (hot reload pins it); default the current one.
   */
  async reply(ticket: ReplyTicket, outs: readonly OutgoingReply[], wantResults: boolean, hooks: BridgeHooks = this.deps.hooks): Promise<ReplyBatch> {
    const t = own(ticket);
    if (t.released) throw new BridgeError('BRIDGE_ERR_REPLY_AFTER_DONE');
    // One slot per reply, in the caller's order: refusals now, deliveries as they happen.
    const decided: (SendResult | undefined)[] = [];
    const ready: OutgoingReply[] = [];
    const readyAt: number[] = [];
    for (const out of outs) {
      const final = hooks.beforeReply.isUsed() ? await hooks.beforeReply.promise(out) : out;
      const refusal = final === null ? null : this.deps.outbound.refusal(final.reply);
      if (final === null) decided.push({ status: 'dropped', traceId: out.traceId, plugin: droppedBy(out) });
      else if (refusal !== null) decided.push({ status: 'rejected', traceId: out.traceId, reason: refusal });
      else {
        readyAt.push(decided.length);
        decided.push(undefined);
        ready.push(final);
      }
    }
    if (t.released) throw new BridgeError('BRIDGE_ERR_REPLY_AFTER_DONE');
    t.replied = true;
    for (let i = 0; i < decided.length; i += 1) {
      const result = decided[i];
      if (result !== undefined) this.refused(result, t, outs[i]!);
    }
    if (ready.length === 0) return { emitted: 0, results: wantResults ? Promise.resolve(decided as SendResult[]) : undefined };
    let results: Promise<readonly SendResult[]> | undefined;
    let slots: ResultSlots | undefined;
    if (wantResults) {
      results = new Promise((resolve) => {
        slots = new ResultSlots(decided, ready.length, resolve);
      });
    }
    // Published before emit: the sequencer may send a reply that is first in line right away.
    if (this.deps.events.active('reply:queued')) {
      const at = eventTime();
      for (const out of ready) {
        this.deps.events.publish('reply:queued', { traceId: out.traceId, botName: out.target.botName, room: out.target.room, index: out.index, at });
      }
    }
    const items: Queued[] = [];
    for (let i = 0; i < ready.length; i += 1) items.push({ out: ready[i]!, ticket: t, slots, slot: readyAt[i]! });
    t.pending += items.length;
    if (this.deviceWatch !== null) for (const item of items) this.deviceWatch.add(item);
    this.sequencer.emit(t.order, items);
    return { emitted: items.length, results };
  }

  /**
   * Proactive send (admin API, schedulers, `ctx.bridge.send`): a ticket of its own in the room's
   * order, so it goes out after the replies of messages admitted before it, and (without the
   * send governor) before those of messages admitted after; with the governor it then waits in
   * Outbound for its turn, and replies of later messages may overtake it. Rooms are keyed as admission keys them, so a target without its
   * channelId is ordered with messages that had none.
   */
  async send(target: ReplyTarget, reply: Reply | string, options?: SendOptions): Promise<SendResult> {
    const body: Reply = typeof reply === 'string' ? { kind: 'text', text: reply } : reply;
    const ticket = this.open(`${target.botName}\u0000${target.channelId ?? `name:${target.room}`}`);
    let batch: ReplyBatch;
    try {
      const out: OutgoingReply = { reply: body, target, message: null, traceId: this.proactiveTraces.next(), index: 0 };
      batch = await this.reply(ticket, [options?.scheduled === true ? { ...out, scheduled: true } : out], true);
    } finally {
      // Finished before waiting for the result: later messages of the room must not wait for our write.
      this.finish(ticket);
    }
    const [result] = (await batch.results) ?? [];
    return result!;
  }

  /** See ReplySequencer.drain (`immediate` at shutdown), then the governor's waiting proactive sends. */
  async drain(options: { immediate?: boolean } = {}): Promise<void> {
    await this.sequencer.drain(options);
    await this.deps.outbound.drainPaced(options);
  }

  stats(): ReplySequencerStats {
    return this.sequencer.stats();
  }

  /** Proactive sends waiting in the send governor, and the rooms they wait for. */
  governorStats(): { queued: number; rooms: number } {
    return this.deps.outbound.governorStats();
  }

  /**
   * Shutdown: from now on, counts per device the replies not yet handed to outbound (those in
   * the room orders now, and those emitted later), and calls `onClear` each time a device's
   * count drops to zero. Lets the shutdown close each connection once its own replies are
   * written instead of all at the end. Idempotent: a second call returns the same watch.
   */
  watchDevices(onClear: (botName: string, deviceId: string) => void): { pending(botName: string, deviceId: string): number } {
    if (this.deviceWatch !== null) return this.deviceWatch;
    const watch = new DeviceReplyWatch<Queued>((queued) => queued.out.target, onClear);
    for (const item of this.sequencer.unsent()) watch.add(item);
    this.deviceWatch = watch;
    return watch;
  }

  /** Synchronous for a written or rejected reply; a promise (the room's chain waits) while the outbox stores it. */
  private deliver(queued: Queued): void | Promise<void> {
    let result: SendResult | Promise<SendResult>;
    try {
      result = this.deps.outbound.deliver(queued.out);
    } catch (error) {
      result = this.sendFailed(queued, error);
    }
    if (result instanceof Promise) {
      const done = result.then(
        (r) => this.delivered(queued, r),
        (error: unknown) => this.delivered(queued, this.sendFailed(queued, error)),
      );
      // A paced proactive send waits in the governor, not in its room's chain: replies of the
      // room's later messages go first (docs/architecture.md, "Send governor").
      if (this.deps.outbound.paces(queued.out)) return;
      return done;
    }
    this.delivered(queued, result);
  }

  /** Outbound never throws by contract; if it did, the reply did not reach a socket. */
  private sendFailed(queued: Queued, error: unknown): SendResult {
    this.deps.log.error({ botName: queued.out.target.botName, room: queued.out.target.room, traceId: queued.out.traceId, err: reasonOf(error) }, 'reply send failed');
    return { status: 'rejected', traceId: queued.out.traceId, reason: 'no_client' };
  }

  private delivered(queued: Queued, result: SendResult): void {
    this.count(result, queued.out);
    queued.slots?.fill(queued.slot, result);
    const t = queued.ticket;
    t.results?.push(result);
    t.pending -= 1;
    if (t.released && t.pending === 0) this.settle(t);
    this.deviceWatch?.delivered(queued);
  }

  private refused(result: SendResult, t: OpenTicket, out: OutgoingReply): void {
    this.count(result, out);
    t.results?.push(result);
    if (result.status === 'rejected') this.deps.log.warn({ traceId: result.traceId, reason: result.reason }, 'reply rejected');
  }

  /** Every result, once: the `reply:result` fact feeds `replies{status}` and `replies_rejected{reason}`. */
  private count(result: SendResult, out: OutgoingReply): void {
    this.deps.events.publish('reply:result', {
      traceId: result.traceId,
      botName: out.target.botName,
      room: out.target.room,
      status: result.status,
      reason: result.status === 'rejected' ? result.reason : null,
      plugin: result.status === 'dropped' ? result.plugin : null,
    });
  }

  private settle(t: OpenTicket): void {
    const listener = t.listener;
    if (listener !== undefined) {
      t.listener = undefined;
      listener(t.processed);
    }
    const waiters = t.waiters;
    if (waiters === undefined) return;
    t.waiters = undefined;
    const settlement: TicketSettlement = { processed: t.processed, results: t.results ?? [] };
    for (const resolve of waiters) resolve(settlement);
  }
}

function own(ticket: ReplyTicket): OpenTicket {
  if (!((ticket as unknown) instanceof OpenTicket)) throw new TypeError('not a ticket from ReplyPath.open()');
  return ticket as unknown as OpenTicket;
}
