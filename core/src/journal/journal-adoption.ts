import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { EventBus } from '../events/bridge-events.js';
import type { JournalEntry, JournalKey, Store } from '../store/types.js';
import type { Journal } from './journal.js';
import type { JournalReplay } from './journal-replay.js';

export interface AdoptionDeps {
  readonly store: () => Store;
  /** This node's id (cluster.nodeId). */
  readonly nodeId: string;
  readonly replay: Pick<JournalReplay, 'admitAdopted' | 'adoptForDevice'>;
  readonly events: EventBus;
  readonly log: CoreLogger;
  /** Rows claimed per statement batch (the claim reads, CASes and reads back this many at a time). */
  readonly batchSize?: number;
  /**
   * Whether another node announced this message answered (its done notice, heard within the
   * notices' window: cluster/done-notices.ts). Such a row is marked done, not replayed.
   */
  readonly answeredElsewhere?: (key: JournalKey) => boolean;
  readonly journal?: Pick<Journal, 'markAnsweredElsewhere'>;
  /**
   * The dead node's admissions its peers heard and never heard answered (its admission
   * notices: cluster/admitted-memory.ts), some still in its group-commit buffer when it died.
   * Written into SQL as its rows before the claim (`journal_replay{restored}`).
   */
  readonly admittedElsewhere?: {
    entriesOf(nodeId: string, device?: { readonly botName: string; readonly deviceId: string }): JournalEntry[];
    forget(nodeId: string, keys: readonly JournalKey[]): void;
  };
}

/** A failed claim (store down) is tried again after this long, while the node is still dead. */
const RETRY_MS = 2_000;
const DEFAULT_BATCH = 1_000;

/**
 * Cluster failover: when a node's lease is gone (`ClusterNode.onNodeDead`), a survivor takes the
 * messages that node admitted and never finished. `adoptNode` claims them by compare-and-set on
 * the row's owner (store.claimJournal: `node_id = dead AND owner_epoch = e` → `node_id = me,
 * owner_epoch = e + 1`), so when every survivor hears of the death at once, each row is won by
 * exactly one of them, and hands the rows it won to JournalReplay.admitAdopted, which runs them
 * through the normal pipeline; the reply path sends the replies to the phone's current node or
 * to the outbox. Only a dead node's rows are ever claimed: a device moving between two live
 * nodes (a takeover) leaves its rows with the node that admitted them, which is still answering
 * them (their replies follow the phone through the reply path), and the new node only learns
 * their keys for dedup (Journal.seedDeviceDedup). Adoptions run one at a time.
 *
 * A row the dead node had answered but whose done mark it had not committed yet (the group
 * commit comes after the socket write) would be answered twice: its done notice, published on
 * NATS in the turn of the write, is remembered by every node (`answeredElsewhere`), and such a
 * row is marked done instead (`journal_replay{already_done}`).
 *
 * A message the dead node had admitted but not yet committed to its journal (the group-commit
 * buffer) and not answered is in no row; its admission notice, held by every peer until its
 * done notice (`admittedElsewhere`), is. Before each claim, the adopter writes the dead node's
 * held admissions (of the device, or all) as the dead node's 'admitted' rows, INSERT IGNORE
 * (Store.restoreJournal: a row the dead node committed keeps its state), then claims as usual:
 * restored rows sort by their admission time with the committed ones, so a room keeps its
 * order (`journal_replay{restored}`: rows inserted).
 *
 * What is not fenced: a node that only looked dead (paused past its lease, SIGSTOP) and wakes
 * up still holds the messages it had in memory; if it answers one that a survivor claimed, that
 * message is answered twice. The cluster core closes such a node's phones when it finds its
 * lease taken; the window is the pause itself (see docs/cluster.md, "Failover").
 */
export class JournalAdoption {
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: AdoptionDeps) {}

  /** Claims and replays every unanswered row of `deadNodeId`; resolves to how many rows this node won. */
  adoptNode(deadNodeId: string): Promise<number> {
    const run = this.chain.then(() => this.adopt(deadNodeId));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * A handshake here for a device whose previous holder is gone (ClusterLink.previousHolderGone):
   * that device's unanswered rows are claimed by the same compare-and-set, now, and wait for its
   * session (JournalReplay.adoptForDevice) so they are admitted before its fresh lines. Chained
   * with the whole-node adoptions: the CAS keeps each row with one node, but two claims of one
   * node running at once would both read the rows back as won (the handshake waits for this
   * at most store.queryTimeoutMs; rows won later are admitted when won). Resolves to how many
   * rows this node won.
   */
  adoptDevice(deadNodeId: string, botName: string, deviceId: string): Promise<number> {
    const run = this.chain.then(() => this.adoptOneDevice(deadNodeId, botName, deviceId));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async adoptOneDevice(deadNodeId: string, botName: string, deviceId: string): Promise<number> {
    const { deps } = this;
    if (this.closed || deadNodeId === deps.nodeId) return 0;
    const device = { botName, deviceId };
    const restored = await this.restore(deadNodeId, device);
    const rows = await deps.store().claimJournal(deadNodeId, deps.nodeId, deps.batchSize ?? DEFAULT_BATCH, device);
    if (rows.length === 0) return 0;
    const open = this.skipAnswered(rows);
    deps.replay.adoptForDevice(open);
    deps.events.publish('journal:replay', { result: 'adopted', rows: rows.length });
    const alreadyDone = rows.length - open.length;
    deps.log.warn({ deadNodeId, botName, deviceId, adopted: rows.length, alreadyDone, restored }, 'journal: took over a dead node\'s unanswered messages of a reconnecting device');
    return rows.length;
  }

  /**
   * The rows to replay: those another node announced answered (a done notice) are marked done
   * instead, counted as `journal_replay{already_done}`.
   */
  private skipAnswered(rows: readonly JournalEntry[]): readonly JournalEntry[] {
    const { answeredElsewhere, journal } = this.deps;
    if (answeredElsewhere === undefined || journal === undefined) return rows;
    const open: JournalEntry[] = [];
    for (const row of rows) {
      if (answeredElsewhere(row)) journal.markAnsweredElsewhere(row);
      else open.push(row);
    }
    const skipped = rows.length - open.length;
    if (skipped > 0) this.deps.events.publish('journal:replay', { result: 'already_done', rows: skipped });
    return open;
  }

  /**
   * The dead node's held admissions (of `device`, or all) into SQL as its 'admitted' rows;
   * those already there keep theirs. Forgotten here once written: the rows decide from then.
   */
  private async restore(deadNodeId: string, device?: { botName: string; deviceId: string }): Promise<number> {
    const memory = this.deps.admittedElsewhere;
    if (memory === undefined) return 0;
    const entries = memory.entriesOf(deadNodeId, device);
    if (entries.length === 0) return 0;
    const restored = await this.deps.store().restoreJournal(deadNodeId, entries);
    memory.forget(deadNodeId, entries);
    if (restored > 0) this.deps.events.publish('journal:replay', { result: 'restored', rows: restored });
    return restored;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async adopt(deadNodeId: string): Promise<number> {
    const { deps } = this;
    if (this.closed || deadNodeId === deps.nodeId) return 0;
    const batch = deps.batchSize ?? DEFAULT_BATCH;
    let won = 0;
    let admitted = 0;
    let alreadyDone = 0;
    let restored = 0;
    try {
      restored = await this.restore(deadNodeId);
      for (;;) {
        if (this.closed) break;
        const rows = await deps.store().claimJournal(deadNodeId, deps.nodeId, batch);
        // Nothing won: nothing is left (a batch split with another survivor wins part of it,
        // so only an empty claim says the dead node's rows are all taken).
        if (rows.length === 0) break;
        won += rows.length;
        const open = this.skipAnswered(rows);
        alreadyDone += rows.length - open.length;
        admitted += deps.replay.admitAdopted(open);
      }
    } catch (error) {
      deps.log.error({ deadNodeId, adopted: won, err: reasonOf(error) }, 'journal: adopting a dead node\'s messages failed; retrying');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.adoptNode(deadNodeId).catch(() => undefined);
      }, RETRY_MS);
      timer.unref();
      this.timers.add(timer);
    }
    if (won > 0) {
      deps.events.publish('journal:replay', { result: 'adopted', rows: won });
      deps.log.warn({ deadNodeId, adopted: won, replayed: admitted, alreadyDone, restored }, 'journal: took over a dead node\'s unanswered messages');
    }
    return won;
  }
}
