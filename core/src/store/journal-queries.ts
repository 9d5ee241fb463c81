import type { Kysely, Selectable } from 'kysely';
import { chunkRows } from './batch-chunks.js';
import type { DbClock } from './db-time.js';
import { LOCAL_NODE_ID } from './migration-journal-owner.js';
import type { BotbridgeJournalTable, Database } from './schema.js';
import type { JournalCommit, JournalEntry, JournalKey } from './types.js';

/**
 * The journal's queries (core/src/journal/), written once for both dialects. A group commit is
 * one transaction: multi-row INSERTs of the new rows (chunked under the dialects' limits), then
 * one UPDATE per chunk of done keys matched by row value `(bot_name, channel_id, log_id) IN
 * (...)` on the unique key. `orIgnore`: a key already journaled (a replay's row, or the same
 * logId again after the dedup window) keeps its row.
 */

const DONE_KEYS_PER_STATEMENT = 500;

/** Statements with rows of values, run in one transaction elsewhere (the SQLite writer thread). */
export type WriteStatements = (groups: readonly { sql: string; rows: unknown[][] }[]) => Promise<void>;

/**
 * A SQLite file store's group commit, run by its writer thread (sqlite-writer.ts) instead of on
 * the event loop: a commit there can trigger a WAL checkpoint (an fsync, measured at p95 ~15 ms
 * on a loaded machine), which the main thread must not wait for. Kysely compiles the single-row
 * INSERT and the single-key UPDATE once; the thread runs them per row in one IMMEDIATE
 * transaction, inserts first.
 */
export function journalThreadWriter(db: Kysely<Database>, clock: DbClock, write: WriteStatements): (commit: JournalCommit) => Promise<void> {
  let insertSql: string | undefined;
  let updateSql: string | undefined;
  return async (commit) => {
    if (commit.admitted.length === 0 && commit.done.length === 0) return;
    const nodeId = commit.nodeId ?? LOCAL_NODE_ID;
    const groups: { sql: string; rows: unknown[][] }[] = [];
    if (commit.admitted.length > 0) {
      if (insertSql === undefined) {
        // Checked against journalRow: a column order that drifted from journalValues fails here, once.
        const first = commit.admitted[0]!;
        insertSql = compiledSql(db.insertInto('botbridge_journal').orIgnore().values(journalValues(first, clock, nodeId)), journalRow(first, clock, nodeId));
      }
      // Each row straight as its values (journalRow keeps journalValues' column order): no object per row.
      const rows: unknown[][] = [];
      for (const entry of commit.admitted) rows.push(journalRow(entry, clock, nodeId));
      groups.push({ sql: insertSql, rows });
    }
    if (commit.done.length > 0) {
      const doneAt = clock.toDb(commit.at);
      const doneRow = (k: JournalKey) => ['done', doneAt, 'admitted', k.botName, k.channelId, k.logId];
      const template = doneRow(commit.done[0]!);
      updateSql ??= compiledSql(
        db.updateTable('botbridge_journal').set({ state: 'done', done_at: doneAt })
          .where('state', '=', 'admitted').where('bot_name', '=', template[3]!).where('channel_id', '=', template[4]!).where('log_id', '=', template[5]!),
        template,
      );
      groups.push({ sql: updateSql, rows: commit.done.map(doneRow) });
    }
    await write(groups);
  };
}

/** The query's SQL, checked to bind exactly `parameters` in this order (so other rows' values line up). */
function compiledSql(query: { compile(): { sql: string; parameters: readonly unknown[] } }, parameters: readonly unknown[]): string {
  const compiled = query.compile();
  if (compiled.parameters.length !== parameters.length || compiled.parameters.some((p, i) => p !== parameters[i])) {
    throw new Error('unexpected parameters compiling a journal statement');
  }
  return compiled.sql;
}

export async function writeJournal(db: Kysely<Database>, clock: DbClock, commit: JournalCommit): Promise<void> {
  if (commit.admitted.length === 0 && commit.done.length === 0) return;
  const nodeId = commit.nodeId ?? LOCAL_NODE_ID;
  const rows = commit.admitted.map((entry) => journalValues(entry, clock, nodeId));
  const doneAt = clock.toDb(commit.at);
  // READ COMMITTED (MySQL; SQLite has one writer and ignores it): several cluster nodes commit
  // into one journal at once, and under REPEATABLE READ the next-key locks of one node's INSERT
  // IGNORE and done-mark UPDATE deadlocked with another's (measured: a few deadlocks a second
  // with 3 nodes). Each row is one node's, so no commit needs a snapshot or gap locks.
  await db.transaction().setIsolationLevel('read committed').execute(async (trx) => {
    for (const chunk of chunkRows(rows)) await trx.insertInto('botbridge_journal').orIgnore().values(chunk).execute();
    for (let i = 0; i < commit.done.length; i += DONE_KEYS_PER_STATEMENT) {
      const keys = commit.done.slice(i, i + DONE_KEYS_PER_STATEMENT);
      await trx.updateTable('botbridge_journal')
        .set({ state: 'done', done_at: doneAt })
        .where('state', '=', 'admitted')
        .where((eb) => eb(eb.refTuple('bot_name', 'channel_id', 'log_id'), 'in', keys.map((k) => eb.tuple(k.botName, k.channelId, k.logId))))
        .execute();
    }
  });
}

/**
 * Cluster failover: a dead node's admissions that were still in its group-commit buffer, as its
 * peers heard them (cluster/admitted-memory.ts), written as that node's rows in state
 * 'admitted' before a survivor claims its rows. `orIgnore` on the unique key: a row the dead
 * node did commit (admitted or done), or another survivor restored or claimed meanwhile, keeps
 * its owner, epoch and state. Rows go in admission order, so their ids (the claim's tie-break
 * after admitted_at) follow it. Resolves to how many rows were inserted.
 */
export async function restoreJournal(db: Kysely<Database>, clock: DbClock, nodeId: string, entries: readonly JournalEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const rows = entries.map((entry) => journalValues({ ...entry, doneAt: null }, clock, nodeId));
  let inserted = 0;
  for (const chunk of chunkRows(rows)) {
    const result = await db.insertInto('botbridge_journal').orIgnore().values(chunk).executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return inserted;
}

export async function journalKeysSince(db: Kysely<Database>, clock: DbClock, since: Date, limit: number): Promise<(JournalKey & { admittedAt: Date })[]> {
  // Newest first under the limit, returned oldest first (the deduplicator remembers in time order).
  const rows = await db.selectFrom('botbridge_journal')
    .select(['bot_name', 'channel_id', 'log_id', 'admitted_at'])
    .where('admitted_at', '>=', clock.toDb(since))
    .orderBy('admitted_at', 'desc').orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse().map((r) => ({ botName: r.bot_name, channelId: r.channel_id, logId: r.log_id, admittedAt: clock.fromDb(r.admitted_at) ?? since }));
}

export async function journalPending(db: Kysely<Database>, clock: DbClock, limit: number, nodeId?: string): Promise<JournalEntry[]> {
  let query = db.selectFrom('botbridge_journal').selectAll().where('state', '=', 'admitted');
  if (nodeId !== undefined) query = query.where('node_id', '=', nodeId);
  const rows = await query.orderBy('admitted_at').orderBy('id').limit(limit).execute();
  return rows.map((r) => entryOf(r, clock));
}

/** One device's keys of the window, whatever their node and state (the handshake's dedup load in cluster mode). */
export async function journalKeysOfDevice(
  db: Kysely<Database>, clock: DbClock, botName: string, deviceId: string, since: Date, limit: number,
): Promise<(JournalKey & { admittedAt: Date })[]> {
  const rows = await db.selectFrom('botbridge_journal')
    .select(['bot_name', 'channel_id', 'log_id', 'admitted_at'])
    .where('bot_name', '=', botName).where('device_id', '=', deviceId).where('admitted_at', '>=', clock.toDb(since))
    .orderBy('admitted_at', 'desc').orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse().map((r) => ({ botName: r.bot_name, channelId: r.channel_id, logId: r.log_id, admittedAt: clock.fromDb(r.admitted_at) ?? since }));
}

/**
 * Claims a dead node's unanswered rows: read a batch, then one compare-and-set UPDATE per
 * owner epoch found (`WHERE id IN (…) AND node_id = dead AND owner_epoch = e AND state =
 * 'admitted'`), then read back which of those ids are now ours. A row another survivor claimed
 * first, or that its zombie owner marked done meanwhile, fails the CAS and is not returned, so
 * two nodes never both replay a row. No transaction is needed: each UPDATE is atomic. A node
 * restarting under its old id claims its own rows the same way (`deadNodeId === nodeId`: the
 * epoch moves on), so it never replays a row a survivor is adopting at that moment.
 */

/** The nodes that own unanswered rows (a cluster node's start adopts those without a lease). */
export async function journalOwners(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('botbridge_journal').select('node_id').distinct().where('state', '=', 'admitted').execute();
  return rows.map((r) => r.node_id);
}
export async function claimJournal(db: Kysely<Database>, clock: DbClock, deadNodeId: string, nodeId: string, limit: number, device?: { botName: string; deviceId: string }): Promise<JournalEntry[]> {
  let query = db.selectFrom('botbridge_journal').select(['id', 'owner_epoch'])
    .where('node_id', '=', deadNodeId).where('state', '=', 'admitted');
  // One device's rows (a handshake taking its own rows over): the (bot_name, device_id, admitted_at) index.
  if (device !== undefined) query = query.where('bot_name', '=', device.botName).where('device_id', '=', device.deviceId);
  const candidates = await query
    .orderBy('admitted_at').orderBy('id')
    .limit(limit)
    .execute();
  if (candidates.length === 0) return [];
  const byEpoch = new Map<number, number[]>();
  for (const c of candidates) {
    const epoch = Number(c.owner_epoch);
    let ids = byEpoch.get(epoch);
    if (ids === undefined) byEpoch.set(epoch, (ids = []));
    ids.push(Number(c.id));
  }
  for (const [epoch, ids] of byEpoch) {
    for (let i = 0; i < ids.length; i += DONE_KEYS_PER_STATEMENT) {
      await db.updateTable('botbridge_journal')
        .set({ node_id: nodeId, owner_epoch: epoch + 1 })
        .where('id', 'in', ids.slice(i, i + DONE_KEYS_PER_STATEMENT))
        .where('node_id', '=', deadNodeId).where('owner_epoch', '=', epoch).where('state', '=', 'admitted')
        .execute();
    }
  }
  const won: JournalEntry[] = [];
  const all = candidates.map((c) => Number(c.id));
  for (let i = 0; i < all.length; i += DONE_KEYS_PER_STATEMENT) {
    const rows = await db.selectFrom('botbridge_journal').selectAll()
      .where('id', 'in', all.slice(i, i + DONE_KEYS_PER_STATEMENT))
      .where('node_id', '=', nodeId).where('state', '=', 'admitted')
      .orderBy('admitted_at').orderBy('id')
      .execute();
    for (const r of rows) won.push(entryOf(r, clock));
  }
  return won;
}

function entryOf(r: Selectable<BotbridgeJournalTable>, clock: DbClock): JournalEntry {
  return {
    botName: r.bot_name,
    channelId: r.channel_id,
    logId: r.log_id,
    deviceId: r.device_id,
    roomKey: r.room_key,
    room: r.room_name,
    sender: r.sender,
    text: r.message,
    userHash: r.user_hash,
    isGroupChat: r.is_group_chat !== 0,
    isMention: r.is_mention !== 0,
    clientTimestamp: r.client_timestamp,
    traceId: r.trace_id,
    admittedAt: clock.fromDb(r.admitted_at) ?? new Date(0),
    doneAt: null,
  };
}

export async function expireJournal(db: Kysely<Database>, clock: DbClock, before: Date): Promise<number> {
  const result = await db.updateTable('botbridge_journal')
    .set({ state: 'expired' })
    .where('state', '=', 'admitted').where('admitted_at', '<', clock.toDb(before))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Two bounded statements, as in monitor-writes.ts deleteOlderThan (MySQL refuses LIMIT inside IN). */
export async function pruneJournal(db: Kysely<Database>, clock: DbClock, before: Date, limit: number): Promise<number> {
  const rows = await db.selectFrom('botbridge_journal').select('id')
    .where('admitted_at', '<', clock.toDb(before))
    .orderBy('admitted_at').limit(limit)
    .execute();
  if (rows.length === 0) return 0;
  const result = await db.deleteFrom('botbridge_journal').where('id', 'in', rows.map((r) => r.id)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** journalValues' values in its column order (the compiled INSERT binds them in that order). */
function journalRow(entry: JournalEntry, clock: DbClock, nodeId: string): unknown[] {
  return [
    entry.botName,
    entry.channelId,
    entry.logId,
    entry.deviceId,
    entry.roomKey,
    entry.room,
    entry.sender,
    entry.text,
    entry.userHash,
    entry.isGroupChat ? 1 : 0,
    entry.isMention ? 1 : 0,
    entry.clientTimestamp,
    entry.traceId,
    entry.doneAt === null ? 'admitted' : 'done',
    clock.toDb(entry.admittedAt),
    entry.doneAt === null ? null : clock.toDb(entry.doneAt),
    nodeId,
  ];
}

function journalValues(entry: JournalEntry, clock: DbClock, nodeId: string) {
  return {
    bot_name: entry.botName,
    channel_id: entry.channelId,
    log_id: entry.logId,
    device_id: entry.deviceId,
    room_key: entry.roomKey,
    room_name: entry.room,
    sender: entry.sender,
    message: entry.text,
    user_hash: entry.userHash,
    is_group_chat: entry.isGroupChat ? 1 : 0,
    is_mention: entry.isMention ? 1 : 0,
    client_timestamp: entry.clientTimestamp,
    trace_id: entry.traceId,
    state: entry.doneAt === null ? 'admitted' : 'done',
    admitted_at: clock.toDb(entry.admittedAt),
    done_at: entry.doneAt === null ? null : clock.toDb(entry.doneAt),
    node_id: nodeId,
  };
}
