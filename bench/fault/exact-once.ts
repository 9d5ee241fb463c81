import type { Reception, SentMessage } from './fault-phone.js';

/** A journal row as the checker needs it (botbridge_journal). */
export interface JournalRow {
  readonly log_id: string;
  readonly state: string;
}

/** The journal as read from the store right after one SIGKILL, before the restart. */
export interface KillSnapshot {
  /** performance.now() when the kill was sent. */
  readonly at: number;
  /**
   * When its exit was seen: the process writes until it dies, so a reply read between the
   * signal and the exit was still answered by the killed process.
   */
  readonly diedAt: number;
  readonly rows: readonly JournalRow[];
}

export interface CheckInput {
  readonly sent: readonly SentMessage[];
  readonly received: readonly Reception[];
  /** botbridge_journal at the end of the run (after a graceful stop). */
  readonly journal: readonly JournalRow[];
  /** kb_chat_logs received rows' log ids (a row proves the server admitted and processed the line). */
  readonly chatLogged: ReadonlySet<string>;
  readonly kills?: readonly KillSnapshot[];
}

export interface KillFigures {
  /** Messages answered before this kill, not yet marked done in the journal at the kill, answered again by the replay. */
  readonly windowDuplicates: number;
  /** Messages the server processed (chat-log row) that never reached the journal and were never answered. */
  readonly windowLost: number;
  /** Unanswered messages with no trace on the server (still in a socket buffer at the kill: never admitted). */
  readonly unread: number;
  /** How long before the kill the unread/window-lost messages were written (ms, max). */
  readonly maxAgeAtKillMs: number;
  readonly journalPendingAtKill: number;
}

export interface CheckResult {
  readonly sent: number;
  /** Messages the server shows it admitted: journaled, answered or chat-logged. */
  readonly admitted: number;
  readonly answered: number;
  /** Admitted (journaled) and never answered: always a failure. */
  readonly lostJournaled: number;
  /** Processed (chat-logged) but neither journaled nor answered. */
  readonly lostUnjournaled: number;
  /** Never admitted, never answered (in a dead socket). */
  readonly unread: number;
  readonly duplicates: number;
  /** Duplicates not explained by a kill's done-mark window: always a failure. */
  readonly unexplainedDuplicates: number;
  /** Replies whose log id the phones never sent. */
  readonly unknownReplies: number;
  /** A room's reply that came after a reply to a later message of that room (first replies only). */
  readonly orderViolations: number;
  /** Of those, a line sent after a reconnect answered before an earlier (replayed) line of its room. */
  readonly orderViolationsAcrossReconnect: number;
  /** Rooms with at least one violation (one early reply makes every later-answered earlier message a violation). */
  readonly orderViolatingRooms: number;
  readonly orderExamples: readonly string[];
  /** Replies read by another phone of the bot than the one that sent the message. */
  readonly crossDevice: number;
  readonly perKill: readonly KillFigures[];
  readonly examples: { readonly lostJournaled: readonly string[]; readonly lostUnjournaled: readonly string[]; readonly unexplainedDuplicates: readonly string[] };
}

const EXAMPLES = 10;
/**
 * A reply the phone read this close before a kill (or after it, before the process was gone)
 * may be the node's last turn: its done notice (cluster mode) was not out yet. The phone reads
 * a loopback write within a millisecond; the rest is the scheduler on a loaded machine.
 */
const NOTICE_WINDOW_MS = 5;

/**
 * Checks "every message the server admitted got exactly one reply, in room order" over the
 * phones' histories and the store. Without kills, any loss or duplicate is a failure. With
 * kills, the only allowance is the documented windows: a message answered before a kill whose
 * done mark was not yet committed may be answered again by the replay (it must then be
 * `admitted` in that kill's journal snapshot), or, in cluster mode, one answered in the node's
 * last turn before the kill (read by the phone within NOTICE_WINDOW_MS of it: its done notice
 * had not left); and a message read just before a kill may be gone (those are reported per
 * kill, never hidden).
 */
export function checkExactlyOnce(input: CheckInput): CheckResult {
  const bySentId = new Map(input.sent.map((m) => [m.logId, m]));
  const replies = new Map<string, Reception[]>();
  let unknownReplies = 0;
  let crossDevice = 0;
  for (const r of input.received) {
    const message = r.logId === null ? undefined : bySentId.get(r.logId);
    if (message === undefined) {
      unknownReplies += 1;
      continue;
    }
    if (message.phone !== r.phone) crossDevice += 1;
    const list = replies.get(message.logId);
    if (list) list.push(r);
    else replies.set(message.logId, [r]);
  }
  // In time order: the phones' histories are concatenated phone by phone, and a reply read by
  // another phone of the bot (cluster failover: a survivor answers through its own devices)
  // would otherwise look first although it came after the kill.
  for (const list of replies.values()) if (list.length > 1) list.sort((a, b) => a.at - b.at);
  const journaled = new Set(input.journal.map((r) => r.log_id));
  const kills = [...(input.kills ?? [])].sort((a, b) => a.at - b.at);
  for (const k of kills) for (const r of k.rows) journaled.add(r.log_id);
  const pendingAt = kills.map((k) => new Set(k.rows.filter((r) => r.state === 'admitted').map((r) => r.log_id)));
  const rowAt = kills.map((k) => new Set(k.rows.map((r) => r.log_id)));
  const killAfter = (at: number) => kills.findIndex((k) => k.diedAt >= at);

  const perKill = kills.map((k, i) => ({ windowDuplicates: 0, windowLost: 0, unread: 0, maxAgeAtKillMs: 0, journalPendingAtKill: pendingAt[i]!.size }));
  const lostJournaled: string[] = [];
  const lostUnjournaled: string[] = [];
  const unexplained: string[] = [];
  let admitted = 0;
  let answered = 0;
  let unread = 0;
  let duplicates = 0;
  for (const m of input.sent) {
    const got = replies.get(m.logId) ?? [];
    const isAdmitted = got.length > 0 || journaled.has(m.logId) || input.chatLogged.has(m.logId);
    if (isAdmitted) admitted += 1;
    if (got.length > 0) answered += 1;
    if (got.length === 0) {
      const k = killAfter(m.at);
      const figures = k >= 0 ? perKill[k]! : null;
      if (journaled.has(m.logId)) lostJournaled.push(m.logId);
      else if (input.chatLogged.has(m.logId)) {
        lostUnjournaled.push(m.logId);
        if (figures) figures.windowLost += 1;
      } else {
        unread += 1;
        if (figures) figures.unread += 1;
      }
      if (figures) figures.maxAgeAtKillMs = Math.max(figures.maxAgeAtKillMs, Math.round(kills[k]!.at - m.at));
      continue;
    }
    if (got.length === 1) continue;
    duplicates += got.length - 1;
    // Explained only as one extra reply after kill i, the first one before it, and either the
    // message still pending in snapshot i (its done mark not committed) or, with no row in the
    // snapshot at all, the first reply read within NOTICE_WINDOW_MS of the kill (cluster mode: a
    // message answered in the node's last turn, whose done notice had not left when it died;
    // its admission notice had, so a survivor restored and answered it again). A row committed
    // as done and answered twice is never explained.
    const first = got[0]!.at;
    const k = killAfter(first);
    const inWindow = k >= 0 && (pendingAt[k]!.has(m.logId) || (!rowAt[k]!.has(m.logId) && first >= kills[k]!.at - NOTICE_WINDOW_MS));
    if (got.length === 2 && inWindow && got[1]!.at > kills[k]!.diedAt) perKill[k]!.windowDuplicates += 1;
    else unexplained.push(m.logId);
  }

  const { violations, acrossReconnect, rooms, examples } = roomOrder(input.received, bySentId);
  return {
    sent: input.sent.length,
    admitted,
    answered,
    lostJournaled: lostJournaled.length,
    lostUnjournaled: lostUnjournaled.length,
    unread,
    duplicates,
    unexplainedDuplicates: unexplained.length,
    unknownReplies,
    orderViolations: violations,
    orderViolationsAcrossReconnect: acrossReconnect,
    orderViolatingRooms: rooms,
    orderExamples: examples,
    crossDevice,
    perKill,
    examples: {
      lostJournaled: lostJournaled.slice(0, EXAMPLES),
      lostUnjournaled: lostUnjournaled.slice(0, EXAMPLES),
      unexplainedDuplicates: unexplained.slice(0, EXAMPLES),
    },
  };
}

/**
 * Per room, over every phone's receptions in arrival order: a first reply to seq n after one to
 * seq > n. `acrossReconnect` counts those where the later message was sent on a later connection
 * of the phone than the overtaken one (a fresh line answered before a replayed one).
 */
function roomOrder(
  received: readonly Reception[],
  bySentId: ReadonlyMap<string, SentMessage>,
): { violations: number; acrossReconnect: number; rooms: number; examples: string[] } {
  const seen = new Set<string>();
  const highest = new Map<string, SentMessage>();
  const examples: string[] = [];
  let violations = 0;
  let acrossReconnect = 0;
  const rooms = new Set<string>();
  const ordered = [...received].sort((a, b) => a.at - b.at);
  for (const r of ordered) {
    const m = r.logId === null ? undefined : bySentId.get(r.logId);
    if (m === undefined || seen.has(m.logId)) continue;
    seen.add(m.logId);
    const top = highest.get(m.room);
    if (top !== undefined && m.seq < top.seq) {
      violations += 1;
      rooms.add(m.room);
      if (top.conn > m.conn) acrossReconnect += 1;
      if (examples.length < EXAMPLES) examples.push(`${m.room}: reply to #${m.seq} (connection ${m.conn}) after #${top.seq} (connection ${top.conn})`);
    } else highest.set(m.room, m);
  }
  return { violations, acrossReconnect, rooms: rooms.size, examples };
}
