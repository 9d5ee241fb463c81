import type { Insertable, Selectable } from 'kysely';
import type { ApprovalStatus } from '@botbridge/sdk';
import type { DbClock } from './db-time.js';
import type { KbBotDevicesTable, KbChatLogsTable, KbPingMonitorTable, KbRoomsTable, KbSystemMonitorTable } from './schema.js';
import type { StoreLayout } from './store-layout.js';
import type { ChatLogRow, DeviceRecord, PingRow, RoomRecord, SystemSampleRow } from './types.js';

/**
 * Rows <-> records. Only the columns the core uses are read, so extra columns of old tables do
 * no harm, and every value is read defensively: the PHP admin and the old server write these
 * tables too (NULL timestamps, zero dates, unknown statuses).
 */

export const DEVICE_COLUMNS = [
  'bot_name', 'device_id', 'status', 'ip_address', 'client_type', 'client_version',
  'approved_at', 'rejection_reason', 'created_at', 'updated_at',
] as const;

export const ROOM_COLUMNS = [
  'bot_name', 'room_id', 'room_name', 'status', 'room_concurrency',
  'approved_at', 'rejection_reason', 'created_at', 'updated_at',
] as const;

export type DeviceRow = Pick<Selectable<KbBotDevicesTable>, (typeof DEVICE_COLUMNS)[number]>;
type RoomRow = Pick<Selectable<KbRoomsTable>, (typeof ROOM_COLUMNS)[number]>;

const STATUSES: ReadonlySet<string> = new Set<ApprovalStatus>(['pending', 'approved', 'denied', 'revoked', 'blocked']);

/** What an unreadable timestamp reads as: the epoch, so it sorts first and never looks recent. */
const UNKNOWN_TIME = new Date(0);

/**
 * Status values come from a table other programs write too (the PHP admin of old deployments).
 * Anything unrecognised reads as `pending`: never approved by accident (fail closed), and visible
 * to the operator in `botbridge devices list`.
 */
export function statusFromDb(value: string | null): ApprovalStatus {
  const normalised = (value ?? '').trim().toLowerCase();
  return STATUSES.has(normalised) ? (normalised as ApprovalStatus) : 'pending';
}

export function isApprovalStatus(value: string): value is ApprovalStatus {
  return STATUSES.has(value);
}

/**
 * The key old deployments gave a room: `<channelId>_<botName>` (the Python server's kb_rooms had
 * PRIMARY KEY(room_id), so two bots in one room needed two keys). Such rows are found and
 * updated where they are and never rewritten; records report the plain channelId.
 */
export function legacyRoomKey(botName: string, roomId: string): string {
  return `${roomId}_${botName}`;
}

/** Both keys a room of `botName` may be stored under, the plain one first. */
export function roomKeyCandidates(botName: string, roomId: string): [string, string] {
  return [roomId, legacyRoomKey(botName, roomId)];
}

function roomIdFromStored(botName: string, stored: string): string {
  const suffix = `_${botName}`;
  return stored.length > suffix.length && stored.endsWith(suffix) ? stored.slice(0, -suffix.length) : stored;
}

export function deviceFromRow(row: DeviceRow, clock: DbClock): DeviceRecord {
  const createdAt = clock.fromDb(row.created_at) ?? UNKNOWN_TIME;
  return {
    botName: row.bot_name,
    deviceId: row.device_id,
    status: statusFromDb(row.status),
    ipAddress: row.ip_address,
    clientType: row.client_type,
    clientVersion: row.client_version,
    approvedAt: clock.fromDb(row.approved_at),
    rejectionReason: row.rejection_reason,
    createdAt,
    // Old rows have NULL until their first UPDATE.
    updatedAt: clock.fromDb(row.updated_at) ?? createdAt,
  };
}

export function roomFromRow(row: RoomRow, clock: DbClock): RoomRecord {
  const createdAt = clock.fromDb(row.created_at) ?? UNKNOWN_TIME;
  const concurrency = row.room_concurrency === null ? null : Number(row.room_concurrency);
  return {
    botName: row.bot_name,
    roomId: roomIdFromStored(row.bot_name, row.room_id),
    roomName: row.room_name,
    status: statusFromDb(row.status),
    // 0, negative or garbage would stall the room: such a value means "use the default".
    roomConcurrency: concurrency !== null && Number.isInteger(concurrency) && concurrency > 0 ? concurrency : null,
    approvedAt: clock.fromDb(row.approved_at),
    rejectionReason: row.rejection_reason,
    createdAt,
    updatedAt: clock.fromDb(row.updated_at) ?? createdAt,
  };
}

const bool = (value: boolean): number => (value ? 1 : 0);

const PHONE_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

export interface RowContext {
  readonly clock: DbClock;
  readonly layout: StoreLayout;
  /** The insert time, already converted by the clock. */
  readonly now: string;
}

export function chatLogValues(row: ChatLogRow, ctx: RowContext): Insertable<KbChatLogsTable> {
  const clientTimestamp = ctx.layout.chatClientTimeAsDate && row.clientTimestamp !== null && !PHONE_TIME.test(row.clientTimestamp)
    ? null
    : row.clientTimestamp;
  return {
    channel_id: row.channelId,
    user_hash: row.userHash,
    room_name: row.roomName,
    sender: row.sender,
    message: row.message,
    directive: row.directive,
    message_type: row.messageType,
    is_meaningful: bool(row.isMeaningful),
    bot_name: row.botName,
    is_mention: bool(row.isMention),
    is_group_chat: bool(row.isGroupChat),
    log_id: row.logId,
    client_timestamp: clientTimestamp,
    server_timestamp: ctx.clock.toDb(row.serverTimestamp),
    is_bot: bool(row.isBot),
    is_our_bot_response: bool(row.isOurBotResponse),
    is_scheduled: bool(row.isScheduled),
    created_at: ctx.now,
  };
}

export function pingValues(row: PingRow, ctx: RowContext): Insertable<KbPingMonitorTable> {
  const { clock, layout } = ctx;
  return {
    bot_name: row.botName,
    device_id: row.deviceId,
    client_ip: row.clientIp,
    ping_time_ms: row.pingTimeMs,
    client_timestamp: layout.pingClientTimeAsDate ? clock.toDb(new Date(row.clientTimestamp)) : row.clientTimestamp,
    server_timestamp: layout.pingServerTimeAsDate ? clock.toDb(new Date(row.serverTimestamp)) : row.serverTimestamp,
    total_memory: row.totalMemory,
    memory_usage: row.memoryUsage,
    memory_percent: row.memoryPercent,
    message_queue_size: row.messageQueueSize,
    active_rooms: row.activeRooms,
    created_at: ctx.now,
  };
}

export function systemSampleValues(row: SystemSampleRow, ctx: RowContext): Insertable<KbSystemMonitorTable> {
  return {
    server_name: row.serverName,
    cpu_percent: row.cpuPercent,
    memory_total: row.memoryTotal,
    memory_used: row.memoryUsed,
    memory_percent: row.memoryPercent,
    disk_usage_percent: row.diskUsagePercent,
    active_connections: row.activeConnections,
    message_queue_size: row.messageQueueSize,
    created_at: ctx.clock.toDb(row.sampledAt),
  };
}
