import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { HashWindow } from '../pipeline/hash-window.js';
import { KeyHasher } from '../pipeline/key-hash.js';
import type { JournalEntry, JournalKey } from '../store/types.js';
import { admissionToWire, type AdmittedMemory, type WireAdmission } from './admitted-memory.js';

export interface DoneNoticesOptions {
  readonly nc: NatsConnection;
  readonly nodeId: string;
  /** This node's subject (`<prefix>.journal.done.<id>`) and the wildcard over every node's. */
  readonly subject: string;
  readonly wildcard: string;
  /** Request/reply: a restarted run asks which of its rows the other nodes heard answered. */
  readonly querySubject: string;
  /**
   * Whether another node is alive (default: always). While none is, nothing is announced:
   * no node could adopt this one's rows, and a node that joins later could not have heard
   * earlier notices anyway. A `--workers 1` cluster node thus pays nothing for them.
   */
  readonly peers?: () => boolean;
  /** Whether NATS is connected now (a notice is not buffered across an outage). */
  readonly connected: () => boolean;
  /** How long another node's notice is remembered. */
  readonly windowMs?: number;
  /** Notices remembered at most (the oldest go first). */
  readonly maxEntries?: number;
  /** Monotonic milliseconds; injectable for tests. */
  readonly now?: () => number;
  /** Where the other nodes' admission notices are held until their done notices (admitted-memory.ts). */
  readonly admissions?: AdmittedMemory;
}

/**
 * One notice on the wire: admissions (`a`: journal rows still in the group-commit buffer, as
 * wire tuples), done journal keys `[bot, channel, logId]` and delivered outbox row ids. One
 * subject, one message per turn for all three, so a peer always sees a message's admission
 * before its done key.
 */
interface NoticeBody {
  readonly a?: readonly WireAdmission[];
  readonly m?: readonly (readonly [string, string, string])[];
  readonly o?: readonly number[];
}

/** A restarted run's question (`from`: its node id) and a node's answer (indices into `m` it knows). */
interface QueryBody {
  readonly from: string;
  readonly m: readonly (readonly [string, string, string])[];
}
interface QueryAnswer {
  readonly node: string;
  readonly known: readonly number[];
}

/** Keys per question (about 60 bytes each as JSON: well under NATS's 1 MB max_payload). */
const QUERY_CHUNK = 5_000;

/**
 * Comfortably past what it covers: a dead node's rows are adopted at a phone's handshake
 * (seconds) or at its lease's expiry (cluster.leaseTtlMs, 10 s), retried every 2 s while the
 * store is down.
 */
export const DONE_NOTICE_WINDOW_MS = 120_000;
/** ~24 bytes each (HashWindow): about 5 MiB at the cap, two minutes of 1,600 notices a second. */
export const DONE_NOTICE_MAX_ENTRIES = 200_000;
/** Expiry while no notice arrives, so the memory follows the window when the fleet is idle too. */
const SWEEP_MS = 10_000;

/**
 * Done notices (docs/cluster.md, "Failover"): the journal's done marks and the outbox's deletes
 * reach SQL only with the next group commit (journal.commitIntervalMs plus the commit) or after
 * a delivery batch, so a node SIGKILLed right after writing replies to a phone leaves rows that
 * still look unfinished, and their adopter would answer them again. In the same turn as the
 * socket write, this node also publishes the message's key (or the outbox row's id) on core
 * NATS; every node remembers the other nodes' notices for `windowMs`, and adoption skips the
 * rows named there, marking them done instead of replaying them.
 *
 * Publishing costs one queued array push per key; the keys of one microtask go out as one
 * message (nats.js itself writes what was published in a turn to its socket at the end of
 * that turn's microtasks, so the notice leaves the process within microseconds of the reply's
 * socket write, never after a timer). Receiving hashes each key once into a HashWindow (the
 * deduplicator's memory: 64-bit seeded hashes in typed arrays, no strings kept). Loaded only
 * in cluster mode, with the rest of cluster/.
 *
 * The same message per turn carries this node's admissions (`messageAdmitted`, at
 * Journal.record: the whole row, since it is not in SQL before the next group commit); each
 * other node holds them in its AdmittedMemory until the done key of the same message arrives,
 * so whoever adopts this node's rows after a SIGKILL can restore the ones it never committed
 * nor answered (admitted-memory.ts). Every done message is announced for this reason, also
 * one answered before its row was committed (its row is then written as done).
 */
export class DoneNotices {
  private readonly hasher = new KeyHasher();
  private readonly window: HashWindow;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly subscription: Subscription;
  private readonly querySubscription: Subscription;
  private admissions: WireAdmission[] = [];
  private messages: [string, string, string][] = [];
  private rows: number[] = [];
  private scheduled = false;
  private readonly sweep: NodeJS.Timeout;
  private readonly flushNow = () => this.flush();
  /** `<prefix>.journal.done.`: a notice's subject past it is its node's id. */
  private readonly subjectPrefix: string;

  constructor(private readonly options: DoneNoticesOptions) {
    this.windowMs = options.windowMs ?? DONE_NOTICE_WINDOW_MS;
    this.now = options.now ?? (() => performance.now());
    this.window = new HashWindow(Math.max(1, options.maxEntries ?? DONE_NOTICE_MAX_ENTRIES));
    this.subjectPrefix = options.wildcard.slice(0, -1);
    this.subscription = options.nc.subscribe(options.wildcard, { callback: (error, msg) => { if (!error) this.received(msg); } });
    this.querySubscription = options.nc.subscribe(options.querySubject, { callback: (error, msg) => { if (!error) this.answer(msg); } });
    this.sweep = setInterval(() => {
      this.expire(this.now());
      options.admissions?.expire();
    }, SWEEP_MS);
    this.sweep.unref();
  }

  /** This node buffered an admission for its next journal commit (Journal.record). */
  messageAdmitted(entry: JournalEntry): void {
    if (this.options.peers?.() === false) return;
    this.admissions.push(admissionToWire(entry));
    this.schedule();
  }

  /** This node handed a journaled message's replies to the socket (Journal.markDone). */
  messageDone(key: JournalKey): void {
    if (this.options.peers?.() === false) return;
    this.messages.push([key.botName, key.channelId, key.logId]);
    this.schedule();
  }

  /** This node wrote an outbox row's reply (its delete comes after the delivery batch). */
  rowDelivered(rowId: number): void {
    if (this.options.peers?.() === false) return;
    this.rows.push(rowId);
    this.schedule();
  }

  /** Another node said it answered this message (within the window). */
  answeredElsewhere(key: JournalKey): boolean {
    this.expire(this.now());
    this.hasher.hash(key.botName, key.channelId, key.logId);
    return this.window.has(this.hasher.hi, this.hasher.lo);
  }

  /** Another node said it delivered this outbox row (within the window). */
  deliveredElsewhere(rowId: number): boolean {
    this.expire(this.now());
    this.hashRow(rowId);
    return this.window.has(this.hasher.hi, this.hasher.lo);
  }

  /** Notices remembered now. */
  get size(): number {
    return this.window.length;
  }

  /**
   * A run restarted under a SIGKILLed run's id claims that run's unanswered rows itself (the
   * others do not adopt a `restarted` run's rows), with an empty memory: it asks the other
   * nodes, which heard the dead run's notices. Resolves the indices of `keys` some node knows
   * answered; waits for `expected` answers per chunk of keys, at most `timeoutMs` each (a node
   * that does not answer in time costs only the skip of what it alone knew).
   */
  async askAnswered(keys: readonly JournalKey[], expected: number, timeoutMs: number): Promise<Set<number>> {
    const known = new Set<number>();
    if (expected <= 0) return known;
    for (let start = 0; start < keys.length; start += QUERY_CHUNK) {
      const chunk = keys.slice(start, start + QUERY_CHUNK);
      const body: QueryBody = { from: this.options.nodeId, m: chunk.map((k) => [k.botName, k.channelId, k.logId]) };
      const answers = await this.options.nc.requestMany(this.options.querySubject, JSON.stringify(body), { strategy: 'count', maxMessages: expected, maxWait: timeoutMs });
      for await (const msg of answers) {
        let answer: QueryAnswer;
        try {
          answer = msg.json<QueryAnswer>();
        } catch {
          continue;
        }
        if (!Array.isArray(answer.known)) continue;
        for (const i of answer.known) if (typeof i === 'number' && i >= 0 && i < chunk.length) known.add(start + i);
      }
    }
    return known;
  }

  /** Sends what is pending and stops listening (before the NATS connection drains). */
  close(): void {
    clearInterval(this.sweep);
    this.flush();
    this.subscription.unsubscribe();
    this.querySubscription.unsubscribe();
  }

  private answer(msg: Msg): void {
    let body: QueryBody;
    try {
      body = msg.json<QueryBody>();
    } catch {
      return;
    }
    // Its own question (the subject reaches every node, the asker too): it knows none of them.
    if (body.from === this.options.nodeId || !Array.isArray(body.m)) return;
    this.expire(this.now());
    const known: number[] = [];
    for (const [i, key] of body.m.entries()) {
      if (!Array.isArray(key) || typeof key[0] !== 'string' || typeof key[1] !== 'string' || typeof key[2] !== 'string') continue;
      this.hasher.hash(key[0], key[1], key[2]);
      if (this.window.has(this.hasher.hi, this.hasher.lo)) known.push(i);
    }
    const answer: QueryAnswer = { node: this.options.nodeId, known };
    msg.respond(JSON.stringify(answer));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A microtask, not a timer: the notice must leave in this turn, next to the reply's write.
    queueMicrotask(this.flushNow);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.admissions.length === 0 && this.messages.length === 0 && this.rows.length === 0) return;
    const body: NoticeBody = {
      ...(this.admissions.length > 0 ? { a: this.admissions } : {}),
      ...(this.messages.length > 0 ? { m: this.messages } : {}),
      ...(this.rows.length > 0 ? { o: this.rows } : {}),
    };
    this.admissions = [];
    this.messages = [];
    this.rows = [];
    // NATS away: nobody could act on it in time (docs/cluster.md: a node cut from NATS).
    if (!this.options.connected()) return;
    try {
      this.options.nc.publish(this.options.subject, JSON.stringify(body));
    } catch {
      // A connection closing under us: the same as NATS away.
    }
  }

  private received(msg: Msg): void {
    // Its own notices: this run never adopts its own rows (a new run under this id starts empty).
    if (msg.subject === this.options.subject) return;
    let body: NoticeBody;
    try {
      body = msg.json<NoticeBody>();
    } catch {
      return;
    }
    const now = this.now();
    this.expire(now);
    const memory = this.options.admissions;
    // The last token of `<prefix>.journal.done.<node>` (node ids are single subject tokens).
    const from = msg.subject.slice(this.subjectPrefix.length);
    // Admissions first: a message admitted and answered in one turn is then forgotten at once.
    if (memory !== undefined && Array.isArray(body.a)) memory.admitted(from, body.a.filter(isWireKey));
    if (Array.isArray(body.m)) {
      for (const key of body.m) {
        if (!Array.isArray(key) || typeof key[0] !== 'string' || typeof key[1] !== 'string' || typeof key[2] !== 'string') continue;
        this.hasher.hash(key[0], key[1], key[2]);
        this.remember(now);
        memory?.done(from, key[0], key[1], key[2]);
      }
    }
    if (Array.isArray(body.o)) {
      for (const id of body.o) {
        if (typeof id !== 'number') continue;
        this.hashRow(id);
        this.remember(now);
      }
    }
  }

  /** An outbox row id, hashed apart from every journal key (those have a non-empty logId and an empty fourth part). */
  private hashRow(rowId: number): void {
    this.hasher.hash('', '', '', String(rowId));
  }

  private remember(now: number): void {
    const { hi, lo } = this.hasher;
    if (!this.window.has(hi, lo)) this.window.push(hi, lo, now);
  }

  private expire(now: number): void {
    for (let at = this.window.oldestAt(); at !== undefined && now - at >= this.windowMs; at = this.window.oldestAt()) this.window.shift();
  }
}

/** An admission tuple whose key parts are strings (the rest is checked if it is ever restored). */
function isWireKey(w: unknown): w is WireAdmission {
  return Array.isArray(w) && typeof w[0] === 'string' && typeof w[1] === 'string' && typeof w[2] === 'string';
}
