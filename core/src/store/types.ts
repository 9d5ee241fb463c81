import type { ApprovalStatus, PluginDatabase } from '@botbridge/sdk';

/**
 * The store interface: everything the core persists. One implementation over Kysely serves
 * every SQL dialect (SQLite, MySQL/MariaDB) so no query is written twice.
 * Table and column names follow the kb_* tables existing deployments already use.
 */

export interface DeviceRecord {
  readonly botName: string;
  readonly deviceId: string;
  readonly status: ApprovalStatus;
  readonly ipAddress: string | null;
  readonly clientType: string | null;
  readonly clientVersion: string | null;
  readonly approvedAt: Date | null;
  readonly rejectionReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface RoomRecord {
  readonly botName: string;
  /** The room key: KakaoTalk's channelId, or `name:<room>` when the client sent none. */
  readonly roomId: string;
  readonly roomName: string;
  readonly status: ApprovalStatus;
  /** Per-room concurrency limit set by the operator (null = use the default). */
  readonly roomConcurrency: number | null;
  readonly approvedAt: Date | null;
  readonly rejectionReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface RegisterDeviceInput {
  readonly botName: string;
  readonly deviceId: string;
  readonly ipAddress: string | null;
  readonly clientType: string | null;
  readonly clientVersion: string | null;
  /** Status for a device seen for the first time (pending, or approved with auto-approve). */
  readonly initialStatus: ApprovalStatus;
}

export interface RegisterRoomInput {
  readonly botName: string;
  readonly roomId: string;
  readonly roomName: string;
  readonly initialStatus: ApprovalStatus;
}

export interface PingRow {
  readonly botName: string;
  readonly deviceId: string;
  /** The connection's real peer address (not the self-reported one). */
  readonly clientIp: string;
  readonly pingTimeMs: number;
  readonly clientTimestamp: number;
  readonly serverTimestamp: number;
  readonly totalMemory: number | null;
  readonly memoryUsage: number | null;
  readonly memoryPercent: number | null;
  readonly messageQueueSize: number | null;
  readonly activeRooms: number | null;
}

export interface ChatLogRow {
  readonly channelId: string | null;
  readonly userHash: string | null;
  readonly roomName: string;
  readonly sender: string;
  readonly message: string;
  readonly directive: string | null;
  readonly messageType: string;
  readonly isMeaningful: boolean;
  readonly botName: string;
  readonly isMention: boolean;
  readonly isGroupChat: boolean;
  readonly logId: string | null;
  readonly clientTimestamp: string | null;
  readonly serverTimestamp: Date;
  readonly isBot: boolean;
  readonly isOurBotResponse: boolean;
  readonly isScheduled: boolean;
}

export interface SystemSampleRow {
  readonly serverName: string;
  readonly sampledAt: Date;
  readonly cpuPercent: number | null;
  /** Bytes, like the Python server's psutil values. */
  readonly memoryTotal: number | null;
  readonly memoryUsed: number | null;
  readonly memoryPercent: number | null;
  readonly diskUsagePercent: number | null;
  readonly activeConnections: number | null;
  readonly messageQueueSize: number | null;
}

/** Tables whose old rows retention may delete (never the approval tables). */
export type RetentionTable = 'kb_chat_logs' | 'kb_ping_monitor' | 'kb_system_monitor';

/** A journaled message's identity; `channelId` is '' for a line without one. */
export interface JournalKey {
  readonly botName: string;
  readonly channelId: string;
  readonly logId: string;
}

/** One admitted message as the journal keeps it: what replaying it needs. */
export interface JournalEntry extends JournalKey {
  readonly deviceId: string;
  readonly roomKey: string;
  readonly room: string;
  readonly sender: string;
  readonly text: string;
  readonly userHash: string | null;
  readonly isGroupChat: boolean;
  readonly isMention: boolean;
  readonly clientTimestamp: string | null;
  readonly traceId: string;
  readonly admittedAt: Date;
  /** Set when the message was already done before its row was written (same group-commit window). */
  readonly doneAt: Date | null;
}

/** One group commit: new rows first, then done marks (of rows of earlier commits), stamped `at`. */
export interface JournalCommit {
  readonly admitted: readonly JournalEntry[];
  readonly done: readonly JournalKey[];
  readonly at: Date;
  /** The node the new rows belong to (cluster mode's node id; 'local' when absent). */
  readonly nodeId?: string;
}

/** A push API idempotency key (core/src/http/push/idempotency.ts). */
export interface PushKeyRecord {
  readonly fingerprint: string;
  /** The SendResult as JSON, or null while its send is in flight (or was interrupted by a crash). */
  readonly result: string | null;
  readonly expiresAt: Date;
}

/** A reply kept for an offline device (core/src/outbound/outbox.ts), as it is queued. */
export interface OutboxEntry {
  readonly botName: string;
  /** The room without the bot: channelId, or `name:<room>` when the reply had none. */
  readonly roomKey: string;
  readonly room: string;
  readonly channelId: string | null;
  /** The device the reply was meant for, if any (another approved device of the bot may take it). */
  readonly deviceId: string | null;
  /** The Reply as JSON. */
  readonly reply: string;
  readonly traceId: string;
  readonly index: number;
  readonly queuedAt: Date;
  readonly expiresAt: Date;
  /** The node that queues it (cluster mode); 'local' when absent. */
  readonly nodeId?: string;
}

/** A stored outbox row; `id` orders the rows of a room. */
export interface OutboxRow extends OutboxEntry {
  readonly id: number;
}

export interface OutboxRoom {
  readonly botName: string;
  readonly roomKey: string;
  readonly queued: number;
}

export interface ListFilter {
  readonly botName?: string;
  readonly status?: ApprovalStatus;
}

export interface Store {
  /** The dialect's name (`sqlite`, `mysql`). */
  readonly dialect: string;
  /** A redacted description for logs (never the password). */
  readonly description: string;
  /** Runs pending migrations (idempotent). */
  migrate(): Promise<void>;
  /** Cheap round trip for readiness checks. */
  healthCheck(): Promise<void>;

  getDevice(botName: string, deviceId: string): Promise<DeviceRecord | undefined>;
  /** Inserts a first-seen device, or refreshes address/version of a known one; returns the row. */
  registerDevice(input: RegisterDeviceInput): Promise<{ record: DeviceRecord; created: boolean }>;
  /** Returns false when no such device exists. */
  setDeviceStatus(botName: string, deviceId: string, status: ApprovalStatus, reason?: string | null): Promise<boolean>;
  listDevices(filter?: ListFilter): Promise<DeviceRecord[]>;
  /** Rows whose updated_at is at or after `since` (approval change feed). */
  devicesChangedSince(since: Date): Promise<DeviceRecord[]>;

  getRoom(botName: string, roomId: string): Promise<RoomRecord | undefined>;
  registerRoom(input: RegisterRoomInput): Promise<{ record: RoomRecord; created: boolean }>;
  setRoomStatus(botName: string, roomId: string, status: ApprovalStatus, reason?: string | null): Promise<boolean>;
  listRooms(filter?: ListFilter): Promise<RoomRecord[]>;
  roomsChangedSince(since: Date): Promise<RoomRecord[]>;

  insertPings(rows: readonly PingRow[]): Promise<void>;
  insertChatLogs(rows: readonly ChatLogRow[]): Promise<void>;
  insertSystemSamples(rows: readonly SystemSampleRow[]): Promise<void>;
  /**
   * Deletes at most `limit` of the oldest rows created before `before` (one bounded statement,
   * so retention never holds a long lock on a table other tools read); returns how many.
   */
  deleteOlderThan(table: RetentionTable, before: Date, limit: number): Promise<number>;

  /** Writes one group commit of the journal in one transaction (core/src/journal/). */
  writeJournal(commit: JournalCommit): Promise<void>;
  /** Keys of rows admitted at or after `since`, oldest first, at most `limit` (the newest kept). */
  journalKeysSince(since: Date, limit: number): Promise<(JournalKey & { readonly admittedAt: Date })[]>;
  /** Rows still 'admitted' (not done), oldest first, at most `limit`; only `nodeId`'s rows when given. */
  journalPending(limit: number, nodeId?: string): Promise<JournalEntry[]>;
  /** Keys of one device's rows admitted at or after `since` (any node, any state), oldest first, at most `limit`. */
  journalKeysOfDevice(botName: string, deviceId: string, since: Date, limit: number): Promise<(JournalKey & { readonly admittedAt: Date })[]>;
  /**
   * Moves up to `limit` of a dead node's 'admitted' rows to `nodeId` by compare-and-set on
   * (node_id, owner_epoch) and returns the rows this call won, oldest first (cluster failover;
   * with `deadNodeId === nodeId`, a restarting node's claim of its own rows). With `device`,
   * only that device's rows (a handshake taking over its device's rows from a dead holder).
   */
  claimJournal(deadNodeId: string, nodeId: string, limit: number, device?: { botName: string; deviceId: string }): Promise<JournalEntry[]>;
  /** Cluster failover: a dead node's uncommitted admissions heard by its peers, inserted as its 'admitted' rows unless the key exists; resolves to how many were inserted. */
  restoreJournal(nodeId: string, entries: readonly JournalEntry[]): Promise<number>;
  /** The node ids that own 'admitted' rows. */
  journalOwners(): Promise<string[]>;
  /** Marks 'admitted' rows admitted before `before` as 'expired'; returns how many. */
  expireJournal(before: Date): Promise<number>;
  /** Deletes at most `limit` rows admitted before `before`; returns how many. */
  pruneJournal(before: Date, limit: number): Promise<number>;
  /** Claims a push API idempotency key before its send; false when it is taken (and not expired). */
  claimPushKey(caller: string, key: string, fingerprint: string, now: Date, expiresAt: Date): Promise<boolean>;
  getPushKey(caller: string, key: string): Promise<PushKeyRecord | undefined>;
  /** Records a claimed key's SendResult (JSON). */
  settlePushKey(caller: string, key: string, result: string): Promise<void>;
  /** Gives back a claimed key whose send threw (nothing was sent). */
  releasePushKey(caller: string, key: string): Promise<void>;
  /** Deletes keys past their window; returns how many. */
  prunePushKeys(now: Date): Promise<number>;
  /** Stores one outbox row durably; returns its id. */
  insertOutbox(entry: OutboxEntry): Promise<number>;
  /** The oldest `limit` rows of a room, in queue order. */
  outboxOfRoom(botName: string, roomKey: string, limit: number, nodeId?: string): Promise<OutboxRow[]>;
  /** Rows of a room whose TTL ran out at `now`, oldest first, at most `limit`. */
  expiredOutbox(botName: string, roomKey: string, now: Date, limit: number, nodeId?: string): Promise<{ id: number; traceId: string; room: string }[]>;
  /** Rooms with rows whose TTL ran out at `now`, at most `limit`. */
  outboxRoomsWithExpired(now: Date, limit: number, nodeId?: string): Promise<{ botName: string; roomKey: string }[]>;
  /** Deletes outbox rows by id (delivered or expired); returns how many. */
  deleteOutbox(ids: readonly number[]): Promise<number>;
  /** Rooms with queued rows and their counts. */
  outboxRooms(): Promise<OutboxRoom[]>;
  /** The database for plugins with tables of their own (`ctx.bridge.database()`). */
  pluginDatabase(): PluginDatabase;
  outboxRooms(nodeId?: string): Promise<OutboxRoom[]>;
  /** The node ids that own queued outbox rows. */
  outboxOwners(): Promise<string[]>;
  /** Cluster failover: moves a dead node's outbox rows to `nodeId` by CAS per room; the rooms and counts won. */
  claimOutbox(deadNodeId: string, nodeId: string): Promise<OutboxRoom[]>;
  /** Closes the connection(s); later calls reject. */
  close(): Promise<void>;
}
