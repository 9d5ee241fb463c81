import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { EventBus } from '../events/bridge-events.js';
import type { Store } from '../store/types.js';
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
    const rows = await deps.store().claimJournal(deadNodeId, deps.nodeId, deps.batchSize ?? DEFAULT_BATCH, { botName, deviceId });
    if (rows.length === 0) return 0;
    deps.replay.adoptForDevice(rows);
    deps.events.publish('journal:replay', { result: 'adopted', rows: rows.length });
    deps.log.warn({ deadNodeId, botName, deviceId, adopted: rows.length }, 'journal: took over a dead node\'s unanswered messages of a reconnecting device');
    return rows.length;
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
    try {
      for (;;) {
        if (this.closed) break;
        const rows = await deps.store().claimJournal(deadNodeId, deps.nodeId, batch);
        // Nothing won: nothing is left (a batch split with another survivor wins part of it,
        // so only an empty claim says the dead node's rows are all taken).
        if (rows.length === 0) break;
        won += rows.length;
        admitted += deps.replay.admitAdopted(rows);
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
      deps.log.warn({ deadNodeId, adopted: won, replayed: admitted }, 'journal: took over a dead node\'s unanswered messages');
    }
    return won;
  }
}
