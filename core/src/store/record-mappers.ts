import type { Insertable, Selectable } from 'kysely';
import type { ApprovalStatus } from '@botbridge/sdk';
import { fromDbTime, fromNullableDbTime, toDbTime } from './db-time.js';
import type { KbBotDevicesTable, KbChatLogsTable, KbPingMonitorTable, KbRoomsTable } from './schema.js';
import type { ChatLogRow, DeviceRecord, PingRow, RoomRecord } from './types.js';

/** Rows <-> records. Only the columns the core uses are read, so extra columns of old tables do no harm. */

export const DEVICE_COLUMNS = [
  'bot_name', 'device_id', 'status', 'ip_address', 'client_type', 'client_version',
  'approved_at', 'rejection_reason', 'created_at', 'updated_at',
] as const;

export const ROOM_COLUMNS = [
  'bot_name', 'room_id', 'room_name', 'status', 'room_concurrency',
  'approved_at', 'rejection_reason', 'created_at', 'updated_at',
] as const;

type DeviceRow = Pick<Selectable<KbBotDevicesTable>, (typeof DEVICE_COLUMNS)[number]>;
type RoomRow = Pick<Selectable<KbRoomsTable>, (typeof ROOM_COLUMNS)[number]>;

const STATUSES: ReadonlySet<string> = new Set<ApprovalStatus>(['pending', 'approved', 'denied', 'revoked', 'blocked']);

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

export function deviceFromRow(row: DeviceRow): DeviceRecord {
  return {
    botName: row.bot_name,
    deviceId: row.device_id,
    status: statusFromDb(row.status),
    ipAddress: row.ip_address,
    clientType: row.client_type,
    clientVersion: row.client_version,
    approvedAt: fromNullableDbTime(row.approved_at),
    rejectionReason: row.rejection_reason,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  };
}

export function roomFromRow(row: RoomRow): RoomRecord {
  return {
    botName: row.bot_name,
    roomId: row.room_id,
    roomName: row.room_name,
    status: statusFromDb(row.status),
    roomConcurrency: row.room_concurrency,
    approvedAt: fromNullableDbTime(row.approved_at),
    rejectionReason: row.rejection_reason,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  };
}

const bool = (value: boolean): number => (value ? 1 : 0);

export function chatLogValues(row: ChatLogRow, now: string): Insertable<KbChatLogsTable> {
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
    client_timestamp: row.clientTimestamp,
    server_timestamp: toDbTime(row.serverTimestamp),
    is_bot: bool(row.isBot),
    is_our_bot_response: bool(row.isOurBotResponse),
    is_scheduled: bool(row.isScheduled),
    created_at: now,
  };
}

export function pingValues(row: PingRow, now: string): Insertable<KbPingMonitorTable> {
  return {
    bot_name: row.botName,
    device_id: row.deviceId,
    client_ip: row.clientIp,
    ping_time_ms: row.pingTimeMs,
    client_timestamp: row.clientTimestamp,
    server_timestamp: row.serverTimestamp,
    total_memory: row.totalMemory,
    memory_usage: row.memoryUsage,
    memory_percent: row.memoryPercent,
    message_queue_size: row.messageQueueSize,
    active_rooms: row.activeRooms,
    created_at: now,
  };
}
