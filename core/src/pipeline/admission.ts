import type { BridgeSettings, ChatMessage } from '@botbridge/sdk';
import { eventTime, type EventBus } from '../events/bridge-events.js';
import type { Journal } from '../journal/journal.js';
import type { CoreLogger } from '../logger.js';
import type { Counters } from '../metrics/counters.js';
import type { ReplyPath } from '../outbound/reply-path.js';
import type { AnalyzePacket } from '../protocol/packets.js';
import type { JournalEntry, JournalKey } from '../store/types.js';
import type { Deduplicator } from './dedup.js';
import type { Dispatcher } from './dispatcher.js';
import type { MessageJob } from './message-job.js';
import type { InjectResult, MessageSource } from './message-source.js';
import { TraceIds } from './trace-ids.js';

/**
 * Admission of one authenticated `analyze` packet: text length limit, dedup by message id and
 * the legacy-twin rule, a place in its room's reply order, then the queue. Everything here is
 * synchronous so messages keep their arrival order; room approval is resolved in the job.
 */
export class Admission {
  private readonly traceIds = new TraceIds();

  constructor(
    private readonly deps: {
      readonly settings: BridgeSettings;
      readonly dedup: Deduplicator;
      readonly dispatcher: Dispatcher<MessageJob>;
      readonly replies: ReplyPath;
      readonly counters: Counters;
      readonly log: CoreLogger;
      readonly events: EventBus;
      /** Journal of admitted messages (absent: journal.enabled false, or tests without a store). */
      readonly journal?: Journal;
    },
  ) {}

  admit(source: MessageSource, packet: AnalyzePacket): void {
    this.run(source, packet, true);
  }

  /**
   * Issue 13: the auth guard saw this exact line (same block, same logId) already. It is
   * reported as the duplicate it is, even when dedup's memory would no longer know it.
   */
  dropDuplicate(source: MessageSource, packet: AnalyzePacket): void {
    this.dropped(source, packet, 'duplicate');
  }

  /**
   * A sandbox line (`Bridge.inject`): it never crossed the wire, so it has no resend or legacy
   * twin, and running it through dedup could only pair it with a real line's twin and drop that.
   */
  admitSynthetic(source: MessageSource, packet: AnalyzePacket): InjectResult {
    return this.run(source, packet, false);
  }

  /**
   * journal: a message a previous process admitted and did not finish. Its key is in the
   * deduplicator already (seeded at start), so dedup is skipped; its row exists, so it is not
   * recorded again, only marked done when its replies were sent.
   */
  admitReplay(source: MessageSource, entry: JournalEntry): InjectResult {
    // Not marked done: the row stays for the next start.
    if (!this.deps.dispatcher.accepting) return { dropped: SHUTTING_DOWN };
    const result = this.run(source, replayPacket(entry), false, entry);
    if ('dropped' in result) this.deps.journal?.markDone(entry);
    return result;
  }

  private run(source: MessageSource, packet: AnalyzePacket, dedup: boolean, replayOf?: JournalKey): InjectResult {
    const { counters, settings } = this.deps;
    const botName = source.botName;
    // The main entry point never sends empty text; the legacy one can (it has no such check).
    if (packet.text.length === 0) {
      return this.dropped(source, packet, 'empty_text');
    }
    if (packet.text.length > settings.limits.maxTextLength) {
      this.deps.log.warn(
        { botName, deviceId: source.deviceId, room: packet.room, length: packet.text.length, code: 'BRIDGE_ERR_TEXT_TOO_LONG' },
        'chat text too long; rejected',
      );
      return this.dropped(source, packet, 'text_too_long');
    }
    const verdict = !dedup ? 'new' : this.deps.dedup.check({
      botName,
      channelId: packet.channelId,
      logId: packet.logId,
      room: packet.room,
      sender: packet.sender,
      text: packet.text,
    });
    if (verdict !== 'new') {
      return this.dropped(source, packet, verdict);
    }
    const roomKey = packet.channelId ?? `name:${packet.room}`;
    const traceId = this.traceIds.next();
    const closing = !this.deps.dispatcher.accepting;
    const message: ChatMessage = {
      id: packet.logId !== null ? `${botName}/${packet.channelId ?? ''}/${packet.logId}` : `${botName}/${roomKey}/${traceId}`,
      traceId,
      botName,
      deviceId: source.deviceId,
      room: packet.room,
      channelId: packet.channelId,
      logId: packet.logId,
      text: packet.text,
      sender: packet.sender,
      userHash: packet.userHash,
      isGroupChat: packet.isGroupChat,
      isMention: packet.isMention,
      clientTimestamp: packet.timestamp,
      receivedAt: Date.now(),
      legacy: packet.legacy,
      clientVersion: source.clientVersion,
    };
    // journal: live lines are recorded (buffered for the next group commit, no store wait here).
    const journal = this.deps.journal;
    const journalKey = replayOf ?? (dedup && journal !== undefined ? journal.record(message, roomKey) : null);
    if (closing) return this.lateAtShutdown(source, message, journalKey !== null);
    const ticket = this.deps.replies.open(`${botName}\u0000${roomKey}`);
    // Done once every reply was handed to the socket (or definitively not); a job abandoned at
    // shutdown (processed: false) stays unfinished for the next start's replay.
    if (journalKey !== null && journal !== undefined) {
      this.deps.replies.onSettled(ticket, (processed) => {
        if (processed) journal.markDone(journalKey);
      });
    }
    const { deviceId, room, channelId, sender, text } = message;
    this.deps.events.publish('message:admitted', { traceId, botName, deviceId, room, channelId, sender, text });
    source.jobQueued?.();
    this.deps.dispatcher.push({ botName, roomKey, message, session: source, ticket, enqueuedAt: eventTime(), journalKey });
    return { traceId };
  }

  /**
   * A line read before the shutdown held reading but routed after the dispatcher closed (e.g.
   * one a phone wrote right behind its handshake). Never a handler error, which would close the
   * socket and lose the replies of its earlier messages: journaled, it waits for the next
   * start's replay; without a log id (or a journal) it is only counted and logged.
   */
  private lateAtShutdown(source: MessageSource, message: ChatMessage, journaled: boolean): InjectResult {
    const result = journaled ? 'kept_for_replay' : 'abandoned_at_shutdown';
    this.deps.events.publish('message:failed', { result, count: 1 });
    this.deps.log.warn(
      { botName: message.botName, deviceId: source.deviceId, room: message.room, logId: message.logId, traceId: message.traceId, result },
      journaled ? 'message arrived during shutdown: kept in the journal for the next start' : 'message arrived during shutdown: not processed',
    );
    return { dropped: SHUTTING_DOWN };
  }

  private dropped(source: MessageSource, packet: AnalyzePacket, reason: string): InjectResult {
    this.deps.events.publish('message:dropped', { botName: source.botName, deviceId: source.deviceId, room: packet.room, reason });
    return { dropped: reason };
  }
}

/** The `dropped` reason of a line that reached admission after the dispatcher closed. */
const SHUTTING_DOWN = 'shutting_down';

/** The analyze packet a journal row stands for (auth was verified when it first arrived). */
function replayPacket(entry: JournalEntry): AnalyzePacket {
  return {
    room: entry.room,
    text: entry.text,
    sender: entry.sender,
    isGroupChat: entry.isGroupChat,
    isMention: entry.isMention,
    channelId: entry.channelId === '' ? null : entry.channelId,
    logId: entry.logId,
    userHash: entry.userHash,
    timestamp: entry.clientTimestamp,
    botName: entry.botName,
    clientType: null,
    packageName: null,
    threadId: null,
    legacy: false,
    auth: null,
  };
}
