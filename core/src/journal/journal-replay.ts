import type { ApprovalCache } from '../approval/approval-cache.js';
import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { EventBus } from '../events/bridge-events.js';
import type { Admission } from '../pipeline/admission.js';
import { SandboxSource, type MessageSource } from '../pipeline/message-source.js';
import type { SessionRegistry } from '../session/session-registry.js';
import type { JournalEntry, Store } from '../store/types.js';

export interface ReplayDeps {
  readonly store: () => Store;
  readonly admission: Admission;
  readonly registry: SessionRegistry;
  readonly approvals: ApprovalCache;
  readonly events: EventBus;
  readonly log: CoreLogger;
  /** journal.replayWaitMs: how long a bot's messages wait for one of its phones. */
  readonly waitMs: number;
  /** journal.replayMaxAgeMs: older unanswered rows are marked expired, not replayed. */
  readonly maxAgeMs: number;
  /** False once the bridge began closing: replay stops. */
  readonly running: () => boolean;
}

/** Rows read for replay at most (oldest first); more would wait for the next start. */
export const REPLAY_LIMIT = 100_000;
/** How often a bot's waiting messages look for a live approved phone of that bot. */
const POLL_MS = 50;

export interface ReplayResult {
  readonly replayed: number;
  readonly expired: number;
  /** Left 'admitted' because no approved phone of their bot came within waitMs (next start tries again). */
  readonly waiting: number;
}

/**
 * Replays what a previous process admitted but did not finish (rows still 'admitted'), through
 * the normal pipeline (admission without dedup, dispatcher, plugins, replies). A reply needs a
 * phone: each device's rows wait for that device to be connected and approved; at `waitMs`,
 * rows whose device did not come are replayed through another approved phone of the same bot
 * (replies are routed to it, as for any reply whose device went away), else left for the next
 * start. Each device's rows are admitted in one synchronous run in journal order, so they keep
 * their room order among themselves (a live line the phone sends in the poll interval after its
 * reconnect can go first).
 */
export async function replayJournal(deps: ReplayDeps): Promise<ReplayResult> {
  const store = deps.store();
  const expired = await store.expireJournal(new Date(Date.now() - deps.maxAgeMs));
  if (expired > 0) {
    deps.events.publish('journal:replay', { result: 'expired', rows: expired });
    deps.log.warn({ count: expired, maxAgeMs: deps.maxAgeMs }, 'journal: unanswered messages too old to replay; expired');
  }
  const rows = await store.journalPending(REPLAY_LIMIT);
  if (rows.length === 0) return { replayed: 0, expired, waiting: 0 };
  const byDevice = new Map<string, JournalEntry[]>();
  for (const row of rows) {
    const key = `${row.botName}\u0000${row.deviceId}`;
    let list = byDevice.get(key);
    if (list === undefined) byDevice.set(key, (list = []));
    list.push(row);
  }
  deps.log.info({ count: rows.length, devices: byDevice.size }, 'journal: replaying unanswered messages once their phones are back');
  const deadline = Date.now() + deps.waitMs;
  const results = await Promise.all([...byDevice.values()].map((entries) => replayDevice(deps, entries, deadline)));
  const replayed = results.reduce((sum, n) => sum + n, 0);
  const waiting = rows.length - replayed;
  if (waiting > 0) {
    deps.events.publish('journal:replay', { result: 'not_replayed', rows: waiting });
    deps.log.warn({ count: waiting, waitMs: deps.waitMs }, 'journal: no approved phone came for some bots; their messages stay for the next start');
  }
  return { replayed, expired, waiting };
}

async function replayDevice(deps: ReplayDeps, entries: readonly JournalEntry[], deadline: number): Promise<number> {
  const { botName, deviceId } = entries[0]!;
  let source: MessageSource | undefined;
  for (;;) {
    if (!deps.running()) return 0;
    const own = deps.registry.get(botName, deviceId);
    if (own !== undefined && own.approval === 'approved') {
      source = own;
      break;
    }
    if (Date.now() >= deadline) {
      // Its phone did not come back: another approved phone of the bot answers (outbound routes there).
      if (anyApprovedSession(deps, botName)) source = new SandboxSource(botName, deviceId, deps.approvals);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (source === undefined) return 0;
  let replayed = 0;
  for (const entry of entries) {
    try {
      const result = deps.admission.admitReplay(source, entry);
      if ('traceId' in result) replayed += 1;
    } catch (error) {
      // Only a closing dispatcher throws here: the rest stays 'admitted' for the next start.
      deps.log.warn({ botName, err: reasonOf(error) }, 'journal: replay stopped');
      break;
    }
  }
  deps.events.publish('journal:replay', { result: 'replayed', rows: replayed });
  return replayed;
}

function anyApprovedSession(deps: ReplayDeps, botName: string): boolean {
  for (const session of deps.registry.ofBot(botName)) {
    if (session.approval === 'approved') return true;
  }
  return false;
}
