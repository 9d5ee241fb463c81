import type { ColumnType, Generated } from 'kysely';

/**
 * The Kysely view of the kb_* tables. Names follow the production MySQL tables (snake_case) that
 * existing deployments and their PHP admin already use, so the same queries run on both dialects.
 */

/**
 * A timestamp column. The store writes UTC `YYYY-MM-DD HH:MM:SS.mmm` strings (see db-time.ts);
 * SQLite keeps them as TEXT, MySQL parses them into DATETIME(3). mysql2 may hand back a `Date`
 * unless `dateStrings` is set, so reads accept both.
 */
export type DbTime = ColumnType<string | Date, string, string>;

/** A boolean column: SQLite INTEGER and MySQL TINYINT(1) both round-trip as 0/1 numbers. */
export type DbBool = ColumnType<number, number, number>;

/** Auto-increment id: never written, read as a number (ids never leave the store). */
export type DbId = Generated<number>;

export interface KbBotDevicesTable {
  id: DbId;
  bot_name: string;
  device_id: string;
  ip_address: string | null;
  client_type: string | null;
  client_version: string | null;
  /** 'pending' | 'approved' | 'denied' | 'revoked' | 'blocked' (other values read as pending). */
  status: string | null;
  max_message_size: number | null;
  approved_at: DbTime | null;
  rejection_reason: string | null;
  /** Nullable in old deployments (`updated_at DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP`). */
  created_at: DbTime | null;
  updated_at: DbTime | null;
}

export interface KbRoomsTable {
  id: DbId;
  /**
   * KakaoTalk channelId, or `name:<room name>` when the client sent none. Old deployments keyed
   * rooms `<channelId>_<botName>` (their PRIMARY KEY(room_id) could not hold one room for two
   * bots); see legacyRoomKey in record-mappers.ts.
   */
  room_id: string;
  bot_name: string;
  room_name: string;
  room_concurrency: number | null;
  /** JSON text. */
  room_owners: string | null;
  status: string | null;
  approved_at: DbTime | null;
  rejection_reason: string | null;
  description: string | null;
  /** JSON text. */
  log_settings: string | null;
  created_at: DbTime | null;
  updated_at: DbTime | null;
}

export interface KbChatLogsTable {
  id: DbId;
  channel_id: string | null;
  user_hash: string | null;
  room_name: string;
  sender: string;
  message: string;
  directive: string | null;
  message_type: string;
  is_meaningful: DbBool;
  bot_name: string;
  is_mention: DbBool;
  is_group_chat: DbBool;
  log_id: string | null;
  /** The client's own clock, as it sent it (e.g. `2025-07-15 17:00:00`, local time of the phone); DATETIME in old deployments. */
  client_timestamp: string | null;
  server_timestamp: DbTime;
  is_bot: DbBool;
  is_our_bot_response: DbBool;
  is_scheduled: DbBool;
  created_at: DbTime;
}

export interface KbPingMonitorTable {
  id: DbId;
  bot_name: string;
  device_id: string;
  client_ip: string;
  ping_time_ms: number;
  /** The server's ping time echoed by the client: epoch ms, or a DATETIME in old deployments (store-layout.ts). */
  client_timestamp: number | string;
  /** When the answer arrived: epoch ms, or a DATETIME in old deployments. */
  server_timestamp: number | string;
  total_memory: number | null;
  memory_usage: number | null;
  memory_percent: number | null;
  message_queue_size: number | null;
  active_rooms: number | null;
  created_at: DbTime;
}

export interface KbSystemMonitorTable {
  id: DbId;
  server_name: string;
  cpu_percent: number | null;
  memory_total: number | null;
  memory_used: number | null;
  memory_percent: number | null;
  disk_usage_percent: number | null;
  active_connections: number | null;
  message_queue_size: number | null;
  created_at: DbTime;
}

/** botbridge's own journal of admitted messages (migration-journal.ts, core/src/journal/). */
export interface BotbridgeJournalTable {
  id: DbId;
  bot_name: string;
  /** '' when the line had no channelId. */
  channel_id: string;
  log_id: string;
  device_id: string;
  room_key: string;
  room_name: string;
  sender: string;
  message: string;
  user_hash: string | null;
  is_group_chat: DbBool;
  is_mention: DbBool;
  client_timestamp: string | null;
  trace_id: string;
  /** 'admitted' (not yet answered) | 'done' | 'expired' (too old to replay). */
  state: string;
  admitted_at: DbTime;
  done_at: DbTime | null;
  /** The node that admitted or adopted the row ('local' for a single-process bridge; migration-journal-owner.ts). */
  node_id: Generated<string>;
  /** How many times the row was adopted from a dead node (the fence of the adoption's CAS). */
  owner_epoch: Generated<number>;
}

/** Replies kept for offline devices (migration-outbox.ts, core/src/outbound/outbox.ts). */
export interface BotbridgeOutboxTable {
  id: DbId;
  bot_name: string;
  /** The room without the bot: channelId, or `name:<room>` when the reply had none. */
  room_key: string;
  room_name: string;
  channel_id: string | null;
  device_id: string | null;
  /** The Reply as JSON. */
  reply: string;
  trace_id: string;
  reply_index: number;
  queued_at: DbTime;
  expires_at: DbTime;
  /** The node that queued the row, or adopted it ('local' for a single process; migration-outbox-owner.ts). */
  node_id: Generated<string>;
}

/** The push API's idempotency keys (migration 0006). */
export interface BotbridgePushKeysTable {
  caller: string;
  idem_key: string;
  /** A hash of what was asked (bot, room, content): the same key with another request is a conflict. */
  fingerprint: string;
  /** The SendResult as JSON; null while the send is in flight (or was interrupted). */
  result: string | null;
  expires_at: DbTime;
}

export interface Database {
  kb_bot_devices: KbBotDevicesTable;
  kb_rooms: KbRoomsTable;
  kb_chat_logs: KbChatLogsTable;
  kb_ping_monitor: KbPingMonitorTable;
  kb_system_monitor: KbSystemMonitorTable;
  botbridge_journal: BotbridgeJournalTable;
  botbridge_outbox: BotbridgeOutboxTable;
  botbridge_push_keys: BotbridgePushKeysTable;
}
