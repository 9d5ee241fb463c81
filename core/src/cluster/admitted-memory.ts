import type { JournalEntry, JournalKey } from '../store/types.js';

/**
 * One admission on the wire (an admission notice, cluster/done-notices.ts): a journal row's
 * fields as a positional tuple, no property names, booleans as 0/1, the admission time in
 * epoch milliseconds: [bot, channel, logId, deviceId, roomKey, room, sender, text, userHash,
 * isGroupChat, isMention, clientTimestamp, traceId, admittedAt].
 */
export type WireAdmission = readonly [
  string, string, string, string, string, string, string, string, string | null, 0 | 1, 0 | 1, string | null, string, number,
];

export function admissionToWire(e: JournalEntry): WireAdmission {
  return [
    e.botName, e.channelId, e.logId, e.deviceId, e.roomKey, e.room, e.sender, e.text, e.userHash,
    e.isGroupChat ? 1 : 0, e.isMention ? 1 : 0, e.clientTimestamp, e.traceId, e.admittedAt.getTime(),
  ];
}

/** The entry a wire tuple stands for, or null when it is malformed (another version, a bad peer). */
export function admissionFromWire(w: unknown): JournalEntry | null {
  if (!Array.isArray(w) || w.length !== 14) return null;
  const [botName, channelId, logId, deviceId, roomKey, room, sender, text, userHash, group, mention, clientTimestamp, traceId, at] = w as unknown[];
  const strings = [botName, channelId, logId, deviceId, roomKey, room, sender, text, traceId];
  if (!strings.every((v) => typeof v === 'string') || typeof at !== 'number' || !Number.isFinite(at)) return null;
  if ((userHash !== null && typeof userHash !== 'string') || (clientTimestamp !== null && typeof clientTimestamp !== 'string')) return null;
  return {
    botName: botName as string, channelId: channelId as string, logId: logId as string, deviceId: deviceId as string,
    roomKey: roomKey as string, room: room as string, sender: sender as string, text: text as string,
    userHash: userHash as string | null, isGroupChat: group === 1, isMention: mention === 1,
    clientTimestamp: clientTimestamp as string | null, traceId: traceId as string, admittedAt: new Date(at), doneAt: null,
  };
}

export interface AdmittedMemoryOptions {
  /** How long an admission is held without its done notice. */
  readonly windowMs?: number;
  /** Admissions held per node at most (the oldest go first). */
  readonly maxPerNode?: number;
  /** Monotonic milliseconds; injectable for tests. */
  readonly now?: () => number;
  /** Admissions dropped without their done notice: `expired` (past the window) or `evicted` (past the cap). */
  readonly onForgotten?: (reason: 'expired' | 'evicted', count: number) => void;
}

/**
 * Far beyond what it covers: a node's admission is in SQL after one group commit
 * (journal.commitIntervalMs plus the commit, retried each second while the store fails), and a
 * survivor restores a dead node's admissions at a phone's handshake (seconds) or at the lease's
 * expiry (cluster.leaseTtlMs, 10 s). An admission still unanswered after it stays in SQL anyway.
 */
export const ADMITTED_WINDOW_MS = 60_000;
/**
 * Per node. The memory holds what a node has admitted and not answered (the done notice
 * removes it): its queue, normally hundreds. At the cap (e.g. a node whose handler hangs),
 * the oldest go first, counted; those are in that node's SQL journal by then.
 */
export const ADMITTED_MAX_PER_NODE = 50_000;

const SEP = '\u0000';
const keyOf = (botName: string, channelId: string, logId: string) => botName + SEP + channelId + SEP + logId;

interface Held {
  readonly wire: WireAdmission;
  readonly at: number;
}

/**
 * What each other node has admitted and not yet announced done (docs/cluster.md, "Failover":
 * admission notices). A node journals an admission in its group-commit buffer first; a SIGKILL
 * before the commit used to leave it known to no node. Its peers hold the admission (as the
 * wire tuple, decoded only if it is ever restored) until the node's done notice for it, and the
 * node that adopts a dead node's rows first writes that node's held admissions into SQL as its
 * rows (Store.restoreJournal, INSERT IGNORE), so the normal claim replays them.
 *
 * Per node, a Map in arrival order (which is that node's admission order: one NATS connection
 * delivers one publisher's messages in order), so expiry and the cap drop the oldest first.
 */
export class AdmittedMemory {
  private readonly nodes = new Map<string, Map<string, Held>>();
  private readonly windowMs: number;
  private readonly maxPerNode: number;
  private readonly now: () => number;

  constructor(private readonly options: AdmittedMemoryOptions = {}) {
    this.windowMs = options.windowMs ?? ADMITTED_WINDOW_MS;
    this.maxPerNode = Math.max(1, options.maxPerNode ?? ADMITTED_MAX_PER_NODE);
    this.now = options.now ?? (() => performance.now());
  }

  /** Admissions announced by `nodeId` (a notice's wire tuples, unchecked until restored). */
  admitted(nodeId: string, wires: readonly WireAdmission[]): void {
    let held = this.nodes.get(nodeId);
    if (held === undefined) this.nodes.set(nodeId, (held = new Map()));
    const at = this.now();
    for (const wire of wires) held.set(keyOf(wire[0], wire[1], wire[2]), { wire, at });
    const over = held.size - this.maxPerNode;
    if (over > 0) {
      let n = 0;
      for (const k of held.keys()) {
        if (n === over) break;
        held.delete(k);
        n += 1;
      }
      this.options.onForgotten?.('evicted', over);
    }
  }

  /** `nodeId` answered this message (its done notice): nothing to restore. */
  done(nodeId: string, botName: string, channelId: string, logId: string): void {
    const held = this.nodes.get(nodeId);
    if (held !== undefined && held.delete(keyOf(botName, channelId, logId)) && held.size === 0) this.nodes.delete(nodeId);
  }

  /** A dead node's held admissions (of one device, or all), in its admission order. */
  entriesOf(nodeId: string, device?: { readonly botName: string; readonly deviceId: string }): JournalEntry[] {
    this.expire();
    const out: JournalEntry[] = [];
    for (const { wire } of this.nodes.get(nodeId)?.values() ?? []) {
      if (device !== undefined && (wire[0] !== device.botName || wire[3] !== device.deviceId)) continue;
      const entry = admissionFromWire(wire);
      if (entry !== null) out.push(entry);
    }
    return out;
  }

  /** These admissions are in SQL now (restored): the rows decide from here. */
  forget(nodeId: string, keys: readonly JournalKey[]): void {
    for (const k of keys) this.done(nodeId, k.botName, k.channelId, k.logId);
  }

  /** Admissions held now, over every node. */
  get size(): number {
    let n = 0;
    for (const held of this.nodes.values()) n += held.size;
    return n;
  }

  /** Drops what is past the window, oldest first (called on each notice and by a sweep). */
  expire(now = this.now()): void {
    for (const [nodeId, held] of this.nodes) {
      let expired = 0;
      for (const [k, { at }] of held) {
        if (now - at < this.windowMs) break;
        held.delete(k);
        expired += 1;
      }
      if (expired > 0) this.options.onForgotten?.('expired', expired);
      if (held.size === 0) this.nodes.delete(nodeId);
    }
  }
}
