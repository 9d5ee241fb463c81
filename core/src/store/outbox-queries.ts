import type { Kysely } from 'kysely';
import type { DbClock } from './db-time.js';
import type { Database } from './schema.js';
import type { OutboxEntry, OutboxRoom, OutboxRow } from './types.js';

/**
 * The outbox's queries (core/src/outbound/outbox.ts), written once for both dialects. Every
 * read is bounded (`limit`) and ordered by id, which is the order replies were queued in.
 * Deletes go by id in two bounded statements, as in journal-queries.ts (MySQL refuses LIMIT
 * inside IN).
 */

export async function insertOutbox(db: Kysely<Database>, clock: DbClock, entry: OutboxEntry): Promise<number> {
  const result = await db.insertInto('botbridge_outbox').values({
    bot_name: entry.botName,
    room_key: entry.roomKey,
    room_name: entry.room,
    channel_id: entry.channelId,
    device_id: entry.deviceId,
    reply: entry.reply,
    trace_id: entry.traceId,
    reply_index: entry.index,
    queued_at: clock.toDb(entry.queuedAt),
    expires_at: clock.toDb(entry.expiresAt),
    ...(entry.nodeId === undefined ? {} : { node_id: entry.nodeId }),
  }).executeTakeFirst();
  return Number(result.insertId ?? 0);
}

/** The oldest `limit` rows of one room, in queue order. */
export async function outboxOfRoom(db: Kysely<Database>, clock: DbClock, botName: string, roomKey: string, limit: number, nodeId?: string): Promise<OutboxRow[]> {
  let query = db.selectFrom('botbridge_outbox').selectAll().where('bot_name', '=', botName).where('room_key', '=', roomKey);
  if (nodeId !== undefined) query = query.where('node_id', '=', nodeId);
  const rows = await query.orderBy('id').limit(limit).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    botName: r.bot_name,
    roomKey: r.room_key,
    room: r.room_name,
    channelId: r.channel_id,
    deviceId: r.device_id,
    reply: r.reply,
    traceId: r.trace_id,
    index: r.reply_index,
    queuedAt: clock.fromDb(r.queued_at) ?? new Date(0),
    expiresAt: clock.fromDb(r.expires_at) ?? new Date(0),
  }));
}

/** Rows of one room whose TTL ran out before `now`, oldest first, at most `limit`. */
export async function expiredOfRoom(
  db: Kysely<Database>, clock: DbClock, botName: string, roomKey: string, now: Date, limit: number, nodeId?: string,
): Promise<{ id: number; traceId: string; room: string }[]> {
  let query = db.selectFrom('botbridge_outbox').select(['id', 'trace_id', 'room_name'])
    .where('bot_name', '=', botName).where('room_key', '=', roomKey).where('expires_at', '<=', clock.toDb(now));
  if (nodeId !== undefined) query = query.where('node_id', '=', nodeId);
  const rows = await query.orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ id: Number(r.id), traceId: r.trace_id, room: r.room_name }));
}

/** Rooms holding rows whose TTL ran out before `now` (one indexed query per sweep), at most `limit`. */
export async function roomsWithExpired(db: Kysely<Database>, clock: DbClock, now: Date, limit: number, nodeId?: string): Promise<{ botName: string; roomKey: string }[]> {
  let query = db.selectFrom('botbridge_outbox').select(['bot_name', 'room_key']).where('expires_at', '<=', clock.toDb(now));
  if (nodeId !== undefined) query = query.where('node_id', '=', nodeId);
  const rows = await query
    .groupBy(['bot_name', 'room_key'])
    .limit(limit)
    .execute();
  return rows.map((r) => ({ botName: r.bot_name, roomKey: r.room_key }));
}

export async function deleteOutbox(db: Kysely<Database>, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.deleteFrom('botbridge_outbox').where('id', 'in', [...ids]).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Rooms that hold queued replies, with their counts (loaded at start: the outbox's memory). */
export async function outboxRooms(db: Kysely<Database>, nodeId?: string): Promise<OutboxRoom[]> {
  let query = db.selectFrom('botbridge_outbox')
    .select((eb) => ['bot_name', 'room_key', eb.fn.countAll<number | string | bigint>().as('queued')]);
  if (nodeId !== undefined) query = query.where('node_id', '=', nodeId);
  const rows = await query.groupBy(['bot_name', 'room_key']).execute();
  return rows.map((r) => ({ botName: r.bot_name, roomKey: r.room_key, queued: Number(r.queued) }));
}

/** The nodes that own queued rows (a cluster node's start adopts those without a lease). */
export async function outboxOwners(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('botbridge_outbox').select('node_id').distinct().execute();
  return rows.map((r) => r.node_id);
}

/**
 * Cluster failover: moves a dead node's rows to `nodeId`, one compare-and-set UPDATE per room
 * (`WHERE node_id = dead AND bot_name = ? AND room_key = ?`), and returns the rooms and row
 * counts this call won: of two survivors, one moves a room's rows and the other moves none.
 */
export async function claimOutbox(db: Kysely<Database>, deadNodeId: string, nodeId: string): Promise<OutboxRoom[]> {
  if (deadNodeId === nodeId) return [];
  const rooms = await outboxRooms(db, deadNodeId);
  const won: OutboxRoom[] = [];
  for (const room of rooms) {
    const result = await db.updateTable('botbridge_outbox').set({ node_id: nodeId })
      .where('node_id', '=', deadNodeId).where('bot_name', '=', room.botName).where('room_key', '=', room.roomKey)
      .executeTakeFirst();
    const moved = Number(result.numUpdatedRows);
    if (moved > 0) won.push({ ...room, queued: moved });
  }
  return won;
}
