import { toReplies } from '@botbridge/sdk/internal';
import {
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
  type SendResult,
} from '@botbridge/sdk';
import type { ApprovalCache, RoomApproval } from '../approval/approval-cache.js';
import { approveCommand, PendingNotices } from '../approval/pending-notices.js';
import { BridgeError, isBridgeError, reasonOf } from '../errors.js';
import { eventTime, type EventBus } from '../events/bridge-events.js';
import type { BridgeHooks } from '../hooks.js';
import type { PinnedPlugins } from '../plugins/plugin-generation.js';
import type { CoreLogger } from '../logger.js';
import type { Counters } from '../metrics/counters.js';
import type { ReplyBatch, ReplyPath, ReplyTicket } from '../outbound/reply-path.js';
import type { JobAbort } from './dispatcher.js';
import type { MessageSource } from './message-source.js';
import type { JournalKey } from '../store/types.js';

export interface MessageJob {
  readonly botName: string;
  readonly roomKey: string;
  readonly message: ChatMessage;
  readonly session: MessageSource;
  /** The message's place in its room's reply order (opaque; see outbound/reply-path.ts). */
  readonly ticket: ReplyTicket;
  /** eventTime() at admission. */
  readonly enqueuedAt: number;
  /** Its journal row (null: not journaled, e.g. no logId). */
  readonly journalKey?: JournalKey | null;
}

export interface MessageJobDeps {
  readonly settings: BridgeSettings;
  readonly approvals: ApprovalCache;
  /**
   * The plugin set a job runs on, pinned when it starts (hot reload): its onReceive, onMessage
   * and the beforeReply of its replies are that set's, even if a reload swaps the set meanwhile.
   */
  readonly plugins: { pin(): PinnedPlugins };
  readonly replies: ReplyPath;
  readonly counters: Counters;
  readonly log: CoreLogger;
  readonly events: EventBus;
  /** journal: a job cut short by shutdown before it replied stays unfinished there (replayed next start). */
}

/**
 * The dispatcher's worker: one message inside the concurrency limits. Room approval is resolved
 * here (in the room's FIFO lane), observers see every message, and only messages whose device
 * and room are both approved reach onMessage. The `finally` is the one place a message's ticket
 * is finished, so a failing message never holds back the replies of later messages of its room;
 * an abort (timeout, shutdown) finishes it earlier, inside the reply path (`watch`), because a
 * hanging worker reaches its `finally` late or never.
 */
export function createMessageWorker(deps: MessageJobDeps): (job: MessageJob, abort: JobAbort, runnableAt?: number) => Promise<void> {
  const notices = new PendingNotices();
  return async (job, abort, runnableAt = 0) => {
    const plugins = deps.plugins.pin();
    // An aborted job (timeout, shutdown) lets its generation go at once: its worker may hang, and
    // a retired generation is torn down when nothing pins it. Replies after the abort are refused.
    abort.onAbort(() => plugins.release());
    const { hooks } = plugins;
    const context = new JobContext(job, abort, deps, hooks);
    deps.replies.watch(job.ticket, abort);
    const started = deps.events.active('message:started') || deps.events.active('message:finished') ? eventTime() : 0;
    if (started && deps.events.active('message:started')) {
      // runnableAt is on the eventTime() clock (the bridge gives the dispatcher that clock); 0 = not measured.
      const runnable = runnableAt > 0 ? Math.min(runnableAt, started) : started;
      // Built whole (publishBuilt): with metrics on this and message:finished are built per message.
      deps.events.publishBuilt('message:started', {
        bridge: deps.events.id,
        at: started,
        traceId: job.message.traceId,
        botName: job.botName,
        room: job.message.room,
        waitMs: started - job.enqueuedAt,
        queueWaitMs: Math.max(0, runnable - job.enqueuedAt),
        slotWaitMs: started - Math.max(runnable, job.enqueuedAt),
      });
    }
    let outcome: MessageOutcome = 'error';
    try {
      const { message } = job;
      const approval = await resolveRoom(job, deps);
      const room: RoomInfo = { botName: job.botName, channelId: message.channelId, name: message.room, status: approval.status };
      const deviceApproved = job.session.approval === 'approved';
      const roomApproved = approval.status === 'approved';
      if (hooks.onReceive.isUsed()) await hooks.onReceive.promise({ message, room, deviceApproved, roomApproved });
      if (!deviceApproved || !roomApproved) {
        if (deviceApproved && approval.status === 'pending') notePendingRoom(job, notices, deps);
        deps.events.publish('message:routed', { traceId: message.traceId, botName: job.botName, room: message.room, result: deviceApproved ? 'room_not_approved' : 'device_not_approved' });
        outcome = 'not-approved';
        return;
      }
      deps.events.publish('message:routed', { traceId: message.traceId, botName: job.botName, room: message.room, result: 'dispatched' });
      context.room = room;
      const result = await hooks.onMessage.promise(context);
      await context.replyWithResult(result);
      outcome = context.replied ? 'replied' : 'no-reply';
    } finally {
      context.done = true;
      plugins.release();
      // A shutdown-aborted job was already finished by ReplyPath.watch (unprocessed when it had
      // not replied, so the journal keeps it); finish is idempotent.
      deps.replies.finish(job.ticket);
      if (isBridgeError(abort.reason, 'BRIDGE_ERR_PROCESSING_TIMEOUT')) outcome = 'timeout';
      if (started && deps.events.active('message:finished')) {
        const at = eventTime();
        const { traceId, room } = job.message;
        deps.events.publishBuilt('message:finished', { bridge: deps.events.id, at, traceId, botName: job.botName, room, outcome, durationMs: at - started });
      }
    }
  };
}

/** An approved device's message in a pending room: says once per interval how to approve the room. */
function notePendingRoom(job: MessageJob, notices: PendingNotices, deps: MessageJobDeps): void {
  if (!notices.due(`${job.botName}\u0000${job.roomKey}`)) return;
  deps.log.info(
    { botName: job.botName, roomId: job.roomKey, room: job.message.room, approve: approveCommand('rooms', job.botName, job.roomKey) },
    'message in a pending room not answered; approve the room to answer it',
  );
}

async function resolveRoom(job: MessageJob, deps: MessageJobDeps): Promise<RoomApproval> {
  const cached = deps.approvals.roomApproval(job.botName, job.roomKey);
  if (cached) return cached;
  try {
    return await deps.approvals.ensureRoom(job.botName, job.roomKey, job.message.room);
  } catch (error) {
    // Fail closed: an unreadable room is not approved; the next message asks again.
    deps.events.publish('store:error', { operation: 'register_room' });
    deps.log.error({ botName: job.botName, roomId: job.roomKey, err: reasonOf(error) }, 'room lookup failed; not approved');
    return { status: 'pending', concurrency: null };
  }
}

export class JobContext implements MessageContext {
  readonly message: ChatMessage;
  room: RoomInfo;
  done = false;
  replied = false;
  private index = 0;
  private boundLog: Logger | undefined;
  private clientInfo: ClientInfo | undefined;

  constructor(
    private readonly job: MessageJob,
    /** The job's cancellation; `signal` makes its AbortSignal only if someone reads it. */
    readonly abort: JobAbort,
    private readonly deps: MessageJobDeps,
    /** The job's pinned plugin set (its beforeReply taps). */
    private readonly hooks: BridgeHooks,
  ) {
    this.message = job.message;
    this.room = { botName: job.botName, channelId: job.message.channelId, name: job.message.room, status: 'pending' };
  }

  /** The phone as it is when a handler first looks (most never do: a snapshot per message is not free). */
  get client(): ClientInfo {
    this.clientInfo ??= this.job.session.info();
    return this.clientInfo;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Made on first use: most messages never log, and a child logger per message is not free. */
  get log(): Logger {
    this.boundLog ??= this.deps.log.child({ botName: this.job.botName, room: this.message.room, traceId: this.message.traceId });
    return this.boundLog;
  }

  async reply(value: Reply | readonly Reply[] | string): Promise<readonly SendResult[]> {
    const batch = await this.send(value, true);
    return (await batch.results) ?? [];
  }

  /**
   * Sends what the winning onMessage handler returned (a reply, several, a string, or noReply()).
   * Not waiting for the writes: the job ends (and frees its slot) while its replies wait their turn.
   */
  async replyWithResult(result: HandlerResult): Promise<void> {
    if (result === undefined || (typeof result === 'object' && 'kind' in result && result.kind === 'none')) return;
    try {
      await this.send(result as Reply | readonly Reply[] | string, false);
    } catch (error) {
      this.log.warn({ err: reasonOf(error), code: error instanceof BridgeError ? error.code : undefined }, 'reply rejected');
    }
  }

  private async send(value: Reply | readonly Reply[] | string, wantResults: boolean): Promise<ReplyBatch> {
    if (this.done || this.abort.aborted) throw new BridgeError('BRIDGE_ERR_REPLY_AFTER_DONE');
    const target = { botName: this.job.botName, room: this.message.room, channelId: this.message.channelId, deviceId: this.message.deviceId };
    const outs: OutgoingReply[] = [];
    for (const reply of toReplies(value)) outs.push({ reply, target, message: this.message, traceId: this.message.traceId, index: this.index++ });
    const batch = await this.deps.replies.reply(this.job.ticket, outs, wantResults, this.hooks);
    if (batch.emitted > 0) this.replied = true;
    return batch;
  }
}
