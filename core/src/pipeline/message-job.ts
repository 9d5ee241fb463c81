import {
  toReplies,
  type BridgeSettings,
  type ChatMessage,
  type ClientInfo,
  type HandlerResult,
  type MessageOutcome,
  type Logger,
  type MessageContext,
  type OutgoingReply,
  type Reply,
  type RoomInfo,
} from '@botbridge/sdk';
import type { ApprovalCache, RoomApproval } from '../approval/approval-cache.js';
import { BridgeError, isBridgeError, reasonOf } from '../errors.js';
import { eventTime, type EventBus } from '../events/bridge-events.js';
import type { BridgeHooks } from '../hooks.js';
import type { CoreLogger } from '../logger.js';
import type { Counters } from '../metrics/counters.js';
import type { Outbound } from '../outbound/outbound.js';
import type { JobAbort } from './dispatcher.js';
import type { MessageSource } from './message-source.js';
import type { ReplySequencer, Ticket } from './reply-sequencer.js';
import type { JournalKey } from '../store/types.js';

export interface MessageJob {
  readonly botName: string;
  readonly roomKey: string;
  readonly message: ChatMessage;
  readonly session: MessageSource;
  readonly ticket: Ticket;
  /** eventTime() at admission. */
  readonly enqueuedAt: number;
  /** Its journal row (null: not journaled, e.g. no logId). */
  readonly journalKey?: JournalKey | null;
}

export interface MessageJobDeps {
  readonly settings: BridgeSettings;
  readonly approvals: ApprovalCache;
  readonly hooks: BridgeHooks;
  readonly sequencer: ReplySequencer<OutgoingReply>;
  readonly outbound: Outbound;
  readonly counters: Counters;
  readonly log: CoreLogger;
  readonly events: EventBus;
  /** journal: a job cut short by shutdown before it replied stays unfinished there (replayed next start). */
  readonly keepUnfinished?: (key: JournalKey) => void;
}

/**
 * The dispatcher's worker: one message inside the concurrency limits. Room approval is resolved
 * here (in the room's FIFO lane), observers see every message, and only messages whose device
 * and room are both approved reach onMessage. The ticket is always finished, so a failing or
 * timed-out message never holds back the replies of later messages of its room.
 */
export function createMessageWorker(deps: MessageJobDeps): (job: MessageJob, abort: JobAbort, runnableAt?: number) => Promise<void> {
  return async (job, abort, runnableAt = 0) => {
    const context = new JobContext(job, abort, deps);
    const started = deps.events.active('message:started') || deps.events.active('message:finished') ? eventTime() : 0;
    if (started && deps.events.active('message:started')) {
      // runnableAt is on the eventTime() clock (the bridge gives the dispatcher that clock); 0 = not measured.
      const runnable = runnableAt > 0 ? Math.min(runnableAt, started) : started;
      deps.events.emit('message:started', {
        traceId: job.message.traceId,
        botName: job.botName,
        room: job.message.room,
        waitMs: started - job.enqueuedAt,
        queueWaitMs: Math.max(0, runnable - job.enqueuedAt),
        slotWaitMs: started - Math.max(runnable, job.enqueuedAt),
        at: started,
      });
    }
    let outcome: MessageOutcome = 'error';
    try {
      const { message } = job;
      const approval = await resolveRoom(job, deps);
      const room: RoomInfo = { botName: job.botName, channelId: message.channelId, name: message.room, status: approval.status };
      const deviceApproved = job.session.approval === 'approved';
      const roomApproved = approval.status === 'approved';
      if (deps.hooks.onReceive.isUsed()) await deps.hooks.onReceive.promise({ message, room, deviceApproved, roomApproved });
      if (!deviceApproved || !roomApproved) {
        deps.counters.inc('messages', deviceApproved ? 'room_not_approved' : 'device_not_approved');
        outcome = 'not-approved';
        return;
      }
      deps.counters.inc('messages', 'dispatched');
      context.room = room;
      const result = await deps.hooks.onMessage.promise(context);
      await context.replyWithResult(result);
      outcome = context.replied ? 'replied' : 'no-reply';
    } finally {
      context.done = true;
      // journal: must precede finish (which may settle the ticket and mark the row done).
      if (job.journalKey && !context.replied && isBridgeError(abort.reason, 'BRIDGE_ERR_SHUTDOWN')) deps.keepUnfinished?.(job.journalKey);
      deps.sequencer.finish(job.ticket);
      if (isBridgeError(abort.reason, 'BRIDGE_ERR_PROCESSING_TIMEOUT')) outcome = 'timeout';
      if (started && deps.events.active('message:finished')) {
        const at = eventTime();
        const { traceId, room } = job.message;
        deps.events.emit('message:finished', { traceId, botName: job.botName, room, outcome, durationMs: at - started, at });
      }
    }
  };
}

async function resolveRoom(job: MessageJob, deps: MessageJobDeps): Promise<RoomApproval> {
  const cached = deps.approvals.roomApproval(job.botName, job.roomKey);
  if (cached) return cached;
  try {
    return await deps.approvals.ensureRoom(job.botName, job.roomKey, job.message.room);
  } catch (error) {
    // Fail closed: an unreadable room is not approved; the next message asks again.
    deps.counters.inc('store_errors', 'register_room');
    deps.log.error({ botName: job.botName, roomId: job.roomKey, err: reasonOf(error) }, 'room lookup failed; not approved');
    return { status: 'pending', concurrency: null };
  }
}

export class JobContext implements MessageContext {
  readonly message: ChatMessage;
  readonly client: ClientInfo;
  room: RoomInfo;
  done = false;
  replied = false;
  private index = 0;
  private boundLog: Logger | undefined;

  constructor(
    private readonly job: MessageJob,
    /** The job's cancellation; `signal` makes its AbortSignal only if someone reads it. */
    readonly abort: JobAbort,
    private readonly deps: MessageJobDeps,
  ) {
    this.message = job.message;
    this.client = job.session.info();
    this.room = { botName: job.botName, channelId: job.message.channelId, name: job.message.room, status: 'pending' };
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Made on first use: most messages never log, and a child logger per message is not free. */
  get log(): Logger {
    this.boundLog ??= this.deps.log.child({ botName: this.job.botName, room: this.message.room, traceId: this.message.traceId });
    return this.boundLog;
  }

  async reply(value: Reply | readonly Reply[] | string): Promise<void> {
    if (this.done || this.abort.aborted) throw new BridgeError('BRIDGE_ERR_REPLY_AFTER_DONE');
    const ready: OutgoingReply[] = [];
    for (const reply of toReplies(value)) {
      const out: OutgoingReply = {
        reply,
        target: { botName: this.job.botName, room: this.message.room, channelId: this.message.channelId, deviceId: this.message.deviceId },
        message: this.message,
        traceId: this.message.traceId,
        index: this.index++,
      };
      const final = this.deps.hooks.beforeReply.isUsed() ? await this.deps.hooks.beforeReply.promise(out) : out;
      if (final === null) {
        this.deps.counters.inc('replies', 'dropped_by_plugin');
        continue;
      }
      this.deps.outbound.validate(final.reply);
      ready.push(final);
    }
    if (this.done || this.abort.aborted) throw new BridgeError('BRIDGE_ERR_REPLY_AFTER_DONE');
    if (ready.length === 0) return;
    this.replied = true;
    // Published before emit: the sequencer may send a reply that is first in line right away.
    if (this.deps.events.active('reply:queued')) {
      const at = eventTime();
      for (const out of ready) {
        this.deps.events.emit('reply:queued', { traceId: out.traceId, botName: out.target.botName, room: out.target.room, index: out.index, at });
      }
    }
    this.deps.sequencer.emit(this.job.ticket, ready);
  }

  /** Sends what the winning onMessage handler returned (a reply, several, a string, or noReply()). */
  async replyWithResult(result: HandlerResult): Promise<void> {
    if (result === undefined || (typeof result === 'object' && 'kind' in result && result.kind === 'none')) return;
    try {
      await this.reply(result as Reply | readonly Reply[] | string);
    } catch (error) {
      this.deps.counters.inc('replies', 'rejected');
      this.log.warn({ err: reasonOf(error), code: error instanceof BridgeError ? error.code : undefined }, 'reply rejected');
    }
  }
}

/** The core's cancellation of a job's context, or undefined for a context made elsewhere (tests). */
export function jobAbortOf(ctx: MessageContext): JobAbort | undefined {
  return ctx instanceof JobContext ? ctx.abort : undefined;
}
