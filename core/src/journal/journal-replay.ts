import type { ApprovalCache } from '../approval/approval-cache.js';
import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { EventBus } from '../events/bridge-events.js';
import type { Admission } from '../pipeline/admission.js';
import { SandboxSource, type MessageSource } from '../pipeline/message-source.js';
import type { SessionRegistry } from '../session/session-registry.js';
import type { JournalEntry, JournalKey, Store } from '../store/types.js';
import type { Journal } from './journal.js';

export interface ReplayDeps {
  readonly store: () => Store;
  readonly admission: Pick<Admission, 'admitReplay'>;
  readonly registry: SessionRegistry;
  readonly approvals: ApprovalCache;
  readonly events: EventBus;
  readonly log: CoreLogger;
  /** journal.replayWaitMs: how long a device's messages wait for that device before another phone answers them. */
  readonly waitMs: number;
  /** journal.replayMaxAgeMs: older unanswered rows are marked expired, not replayed. */
  readonly maxAgeMs: number;
  /**
   * Cluster mode: this node's id. The start reads only this node's rows (another node's rows
   * are that node's, or its adopter's), and a row whose phone is not back here by the fallback
   * is admitted anyway: its replies go through the reply path to whichever node holds the phone
   * now, or to the outbox. Undefined: a single process, which reads every row as its own.
   */
  readonly nodeId?: string;
  /**
   * Cluster mode: which of the rows this node's previous run left 'admitted' the other nodes
   * heard announced done (its done notices, cluster/done-notices.ts): indices into `keys`.
   * Those rows are marked done through `journal` instead of replayed.
   */
  readonly answeredBeforeRestart?: (keys: readonly JournalKey[]) => Promise<ReadonlySet<number>>;
  readonly journal?: Pick<Journal, 'markAnsweredElsewhere'>;
}

/** Rows read for replay at most (oldest first); more would wait for the next start. */
export const REPLAY_LIMIT = 100_000;

/** A pending row and its place in the journal (the order rows of different devices are merged in). */
interface Pending {
  readonly seq: number;
  readonly entry: JournalEntry;
}

/**
 * Replays what a previous process admitted but did not finish (rows still 'admitted') through
 * the normal pipeline (admission without dedup, dispatcher, plugins, replies), at most once per
 * row. The rows are read before the listener opens; a device's rows are then admitted by the
 * session itself, synchronously, at the moment it is ready and approved, after its
 * handshakeComplete is written and before any line it sent (those it held behind or, v3.3,
 * before the handshake) reaches admission. Admission opens the rooms' reply tickets in that
 * order, so the replayed messages of a room are answered before the phone's fresh ones: no
 * polling, no race.
 *
 * At `waitMs` after the start (the fallback), the rows of devices that did not come back are
 * replayed through another approved live phone of the bot (replies are routed to it), all of a
 * bot's rows in one synchronous run in journal order; a bot without one keeps them until an
 * approved phone of it becomes ready in this run (or for the next start). Rows of a device that
 * is not approved are never replayed: they stay 'admitted'.
 */
export class JournalReplay {
  /** Per bot, per device: unanswered rows in journal order. A row leaves when it is admitted. */
  private readonly pending = new Map<string, Map<string, Pending[]>>();
  private timer: NodeJS.Timeout | undefined;
  private fallbackDue = false;
  private closed = false;
  /** Journal order of the pending rows (adopted rows come after the start's). */
  private nextSeq = 0;

  constructor(private readonly deps: ReplayDeps) {}

  /** Rows waiting for a phone. */
  get size(): number {
    let rows = 0;
    for (const devices of this.pending.values()) for (const list of devices.values()) rows += list.length;
    return rows;
  }

  /** Before the listener opens: expires rows past `maxAgeMs`, reads the rest (oldest first). */
  async load(): Promise<void> {
    const { deps } = this;
    const store = deps.store();
    const expired = await store.expireJournal(new Date(Date.now() - deps.maxAgeMs));
    if (expired > 0) {
      deps.events.publish('journal:replay', { result: 'expired', rows: expired });
      deps.log.warn({ count: expired, maxAgeMs: deps.maxAgeMs }, 'journal: unanswered messages too old to replay; expired');
    }
    // Cluster mode: this node's own rows, claimed by CAS like an adoption, so a survivor
    // adopting them at this moment (it saw this id's previous run die) and this start never
    // both replay one.
    const rows = deps.nodeId === undefined ? await store.journalPending(REPLAY_LIMIT) : await this.skipAnswered(await store.claimJournal(deps.nodeId, deps.nodeId, REPLAY_LIMIT));
    for (const entry of rows) {
      const seq = this.nextSeq++;
      let devices = this.pending.get(entry.botName);
      if (devices === undefined) this.pending.set(entry.botName, (devices = new Map()));
      let list = devices.get(entry.deviceId);
      if (list === undefined) devices.set(entry.deviceId, (list = []));
      list.push({ seq, entry });
    }
    if (rows.length > 0) {
      const devices = [...this.pending.values()].reduce((sum, d) => sum + d.size, 0);
      deps.log.info({ count: rows.length, devices }, 'journal: replaying unanswered messages as their phones come back');
    }
  }

  /**
   * Cluster mode, a restart after a SIGKILL: the previous run answered some of its rows in its
   * last group-commit window (done marks never committed); the other nodes heard its done
   * notices, so those rows are marked done here instead of answered twice. The fleet not
   * answering costs only that: the rows are replayed.
   */
  private async skipAnswered(rows: readonly JournalEntry[]): Promise<readonly JournalEntry[]> {
    const { answeredBeforeRestart, journal } = this.deps;
    if (rows.length === 0 || answeredBeforeRestart === undefined || journal === undefined) return rows;
    let known: ReadonlySet<number>;
    try {
      known = await answeredBeforeRestart(rows);
    } catch (error) {
      this.deps.log.warn({ err: reasonOf(error), rows: rows.length }, 'journal: the other nodes could not say which unanswered rows the previous run had answered; replaying them all');
      return rows;
    }
    if (known.size === 0) return rows;
    const open: JournalEntry[] = [];
    for (const [i, row] of rows.entries()) {
      if (known.has(i)) journal.markAnsweredElsewhere(row);
      else open.push(row);
    }
    this.deps.events.publish('journal:replay', { result: 'already_done', rows: known.size });
    this.deps.log.warn({ alreadyDone: known.size, replaying: open.length }, 'journal: the previous run had answered some of its unanswered rows (its done notices); marked done, not replayed');
    return open;
  }

  /** Once listening: starts the `waitMs` clock of the fallback. */
  start(): void {
    if (this.closed || this.pending.size === 0) return;
    this.timer = setTimeout(() => this.fallback(), this.deps.waitMs);
    this.timer.unref();
  }

  /**
   * A session is ready (handshakeComplete written) and about to release the lines it held, or
   * its device was just approved. Synchronous on purpose: nothing of this phone may be admitted
   * between its replayed rows. After the fallback time, this phone also answers the rows of
   * its bot's devices that did not come back.
   */
  admitBefore(session: MessageSource): void {
    if (this.closed || session.approval !== 'approved') return;
    const devices = this.pending.get(session.botName);
    if (devices === undefined) return;
    if (!this.fallbackDue) {
      const own = devices.get(session.deviceId);
      if (own === undefined) return;
      devices.delete(session.deviceId);
      if (devices.size === 0) this.pending.delete(session.botName);
      this.admit(session.botName, own, () => session);
      return;
    }
    this.admitBot(session.botName, devices, session);
  }

  /**
   * Cluster failover: rows this node just claimed from a dead node (JournalAdoption). Their
   * phones are reconnecting to any node, so they are admitted now, per bot in journal order: a
   * device with a live approved session here answers its own, the others through a sandbox
   * source whose replies the reply path routes to the phone's current node or to the outbox.
   * Rows of devices that are not approved stay 'admitted' (under this node) like at a restart.
   */
  admitAdopted(rows: readonly JournalEntry[]): number {
    if (this.closed) return 0;
    const byBot = new Map<string, Pending[]>();
    for (const [seq, entry] of rows.entries()) {
      if (this.deps.approvals.deviceStatus(entry.botName, entry.deviceId) !== 'approved') continue;
      let list = byBot.get(entry.botName);
      if (list === undefined) byBot.set(entry.botName, (list = []));
      list.push({ seq, entry });
    }
    let admitted = 0;
    for (const [botName, list] of byBot) admitted += this.admit(botName, list, (deviceId) => this.sourceOf(botName, deviceId));
    return admitted;
  }

  /**
   * Cluster failover at a handshake: rows of one device just claimed from its dead previous
   * holder (JournalAdoption.adoptDevice), while that device's handshake here is not complete.
   * They wait, like a restart's rows, for the session's `admitBefore`, so they enter admission
   * ahead of the phone's fresh lines and a room keeps its order. When the device is already
   * ready here (the claim outlasted the handshake's wait), they are admitted at once.
   */
  adoptForDevice(rows: readonly JournalEntry[]): void {
    if (this.closed || rows.length === 0) return;
    const { botName, deviceId } = rows[0]!;
    const live = this.deps.registry.get(botName, deviceId);
    if (live?.isReady) {
      this.admitAdopted(rows);
      return;
    }
    let devices = this.pending.get(botName);
    if (devices === undefined) this.pending.set(botName, (devices = new Map()));
    let list = devices.get(deviceId);
    if (list === undefined) devices.set(deviceId, (list = []));
    for (const entry of rows) list.push({ seq: this.nextSeq++, entry });
  }

  /** Clears the fallback clock; rows not admitted stay 'admitted' for the next start. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private fallback(): void {
    if (this.closed) return;
    this.fallbackDue = true;
    let waiting = 0;
    for (const [botName, devices] of [...this.pending]) {
      const phone = this.approvedPhone(botName);
      if (phone !== undefined) this.admitBot(botName, devices, phone);
      else if (this.deps.nodeId !== undefined) this.admitBot(botName, devices, null);
      for (const list of this.pending.get(botName)?.values() ?? []) waiting += list.length;
    }
    if (waiting > 0) {
      this.deps.events.publish('journal:replay', { result: 'not_replayed', rows: waiting });
      this.deps.log.warn(
        { count: waiting, waitMs: this.deps.waitMs },
        'journal: no approved phone came for some messages; they wait for an approved phone of their bot (or the next start)',
      );
    }
  }

  /**
   * Every approved device's rows of a bot in one run, merged in journal order, so a room shared
   * by several phones of the bot keeps its order among the replayed rows. A live approved device
   * answers its own rows; `via` (an approved live phone) stands in for the others.
   */
  private admitBot(botName: string, devices: Map<string, Pending[]>, via: MessageSource | null): void {
    const merged: Pending[] = [];
    for (const [deviceId, list] of devices) {
      if (this.deps.approvals.deviceStatus(botName, deviceId) !== 'approved') continue;
      merged.push(...list);
      devices.delete(deviceId);
    }
    if (devices.size === 0) this.pending.delete(botName);
    if (merged.length === 0) return;
    merged.sort((a, b) => a.seq - b.seq);
    const sources = new Map<string, MessageSource>();
    this.admit(botName, merged, (deviceId) => {
      let source = sources.get(deviceId);
      if (source === undefined) {
        // Its phone is not back: `via` is live, so outbound routes the replies there (in
        // cluster mode, without `via`, the reply path finds the phone's node or the outbox).
        source = via?.deviceId === deviceId ? via : this.sourceOf(botName, deviceId);
        sources.set(deviceId, source);
      }
      return source;
    });
  }

  private sourceOf(botName: string, deviceId: string): MessageSource {
    const own = this.deps.registry.get(botName, deviceId);
    return own !== undefined && own.approval === 'approved' ? own : new SandboxSource(botName, deviceId, this.deps.approvals);
  }

  private admit(botName: string, rows: readonly Pending[], sourceOf: (deviceId: string) => MessageSource): number {
    let replayed = 0;
    for (const { entry } of rows) {
      try {
        const result = this.deps.admission.admitReplay(sourceOf(entry.deviceId), entry);
        if ('traceId' in result) replayed += 1;
      } catch (error) {
        // Only a closing dispatcher refuses here: the rest stays 'admitted' for the next start.
        this.deps.log.warn({ botName, err: reasonOf(error) }, 'journal: replay stopped');
        break;
      }
    }
    if (replayed > 0) this.deps.events.publish('journal:replay', { result: 'replayed', rows: replayed });
    return replayed;
  }

  private approvedPhone(botName: string): MessageSource | undefined {
    for (const session of this.deps.registry.ofBot(botName)) {
      if (session.isReady && session.approval === 'approved') return session;
    }
    return undefined;
  }
}
