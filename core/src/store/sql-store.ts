import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { ApprovalStatus } from '@botbridge/sdk';
import { BridgeError, reasonOf } from '../errors.js';
import { chunkRows } from './batch-chunks.js';
import { toDbTime } from './db-time.js';
import { migrateToLatest } from './migrations.js';
import {
  chatLogValues, DEVICE_COLUMNS, deviceFromRow, pingValues, ROOM_COLUMNS, roomFromRow,
} from './record-mappers.js';
import type { Database, StoreDialect } from './schema.js';
import type {
  ChatLogRow, DeviceRecord, ListFilter, PingRow, RegisterDeviceInput, RegisterRoomInput, RoomRecord, Store,
} from './types.js';

export interface SqlStoreOptions {
  readonly dialect: StoreDialect;
  /** Redacted: never holds a password. */
  readonly description: string;
}

/**
 * The one query layer: every query of every dialect lives here, written once against Kysely.
 * Dialect-specific code is limited to opening the connection (sqlite.ts) and to column types and
 * index creation in migrations.ts.
 *
 * Status changes and registrations stamp `updated_at`, and the change feeds select on it, so a
 * change written by another process (the CLI while the server runs, the PHP admin on MySQL) is
 * seen by the next poll. Pollers should overlap their `since` a little: a writer stamps the time
 * before its commit becomes visible.
 */
export class SqlStore implements Store {
  readonly dialect: StoreDialect;
  readonly description: string;
  #db: Kysely<Database> | null;

  constructor(db: Kysely<Database>, options: SqlStoreOptions) {
    this.#db = db;
    this.dialect = options.dialect;
    this.description = options.description;
  }

  get #live(): Kysely<Database> {
    if (this.#db === null) throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: `${this.description} is closed` });
    return this.#db;
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.#live, this.dialect);
  }

  async healthCheck(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#live);
    } catch (error) {
      if (error instanceof BridgeError) throw error;
      throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: reasonOf(error) }, { cause: error });
    }
  }

  async getDevice(botName: string, deviceId: string): Promise<DeviceRecord | undefined> {
    const row = await this.#live.selectFrom('kb_bot_devices').select(DEVICE_COLUMNS)
      .where('bot_name', '=', botName).where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row === undefined ? undefined : deviceFromRow(row);
  }

  /**
   * Race-safe without a dialect-specific upsert: INSERT OR IGNORE (SQLite) / INSERT IGNORE (MySQL)
   * is one Kysely call (`orIgnore`) on the UNIQUE(bot_name, device_id) key, so of two connections
   * of a new device exactly one reports `created`, and both read the same row.
   * A known device keeps its status. Its address/type/version (and so `updated_at`) are rewritten
   * only when they changed: a plain reconnect writes nothing and stays out of the change feed.
   */
  async registerDevice(input: RegisterDeviceInput): Promise<{ record: DeviceRecord; created: boolean }> {
    const known = await this.getDevice(input.botName, input.deviceId);
    if (known !== undefined) return { record: await this.#refreshDevice(known, input), created: false };

    const now = toDbTime(new Date());
    const result = await this.#live.insertInto('kb_bot_devices').orIgnore().values({
      bot_name: input.botName,
      device_id: input.deviceId,
      ip_address: input.ipAddress,
      client_type: input.clientType,
      client_version: input.clientVersion,
      status: input.initialStatus,
      approved_at: input.initialStatus === 'approved' ? now : null,
      created_at: now,
      updated_at: now,
    }).executeTakeFirst();
    const created = Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    const record = await this.getDevice(input.botName, input.deviceId);
    if (record === undefined) {
      throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: `device ${input.botName}/${input.deviceId} not found after insert` });
    }
    return { record: created ? record : await this.#refreshDevice(record, input), created };
  }

  async #refreshDevice(known: DeviceRecord, input: RegisterDeviceInput): Promise<DeviceRecord> {
    // A client that did not send a field keeps the value it sent before.
    const ipAddress = input.ipAddress ?? known.ipAddress;
    const clientType = input.clientType ?? known.clientType;
    const clientVersion = input.clientVersion ?? known.clientVersion;
    if (ipAddress === known.ipAddress && clientType === known.clientType && clientVersion === known.clientVersion) return known;
    const now = new Date();
    await this.#live.updateTable('kb_bot_devices')
      .set({ ip_address: ipAddress, client_type: clientType, client_version: clientVersion, updated_at: toDbTime(now) })
      .where('bot_name', '=', known.botName).where('device_id', '=', known.deviceId)
      .execute();
    return { ...known, ipAddress, clientType, clientVersion, updatedAt: now };
  }

  /**
   * Approving stamps `approved_at` and clears the reason; other statuses keep `approved_at` (the
   * last approval) and record the reason. MySQL counts only rows whose values changed as
   * "affected": its connection must set CLIENT_FOUND_ROWS so a same-millisecond repeat still
   * reports the row as found.
   */
  async setDeviceStatus(botName: string, deviceId: string, status: ApprovalStatus, reason?: string | null): Promise<boolean> {
    const now = toDbTime(new Date());
    const result = await this.#live.updateTable('kb_bot_devices')
      .set(status === 'approved'
        ? { status, approved_at: now, rejection_reason: null, updated_at: now }
        : { status, rejection_reason: reason ?? null, updated_at: now })
      .where('bot_name', '=', botName).where('device_id', '=', deviceId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listDevices(filter: ListFilter = {}): Promise<DeviceRecord[]> {
    let query = this.#live.selectFrom('kb_bot_devices').select(DEVICE_COLUMNS);
    if (filter.botName !== undefined) query = query.where('bot_name', '=', filter.botName);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const rows = await query.orderBy('bot_name').orderBy('device_id').execute();
    return rows.map(deviceFromRow);
  }

  async devicesChangedSince(since: Date): Promise<DeviceRecord[]> {
    const rows = await this.#live.selectFrom('kb_bot_devices').select(DEVICE_COLUMNS)
      .where('updated_at', '>=', toDbTime(since))
      .orderBy('updated_at').orderBy('bot_name').orderBy('device_id')
      .execute();
    return rows.map(deviceFromRow);
  }

  async getRoom(botName: string, roomId: string): Promise<RoomRecord | undefined> {
    const row = await this.#live.selectFrom('kb_rooms').select(ROOM_COLUMNS)
      .where('bot_name', '=', botName).where('room_id', '=', roomId)
      .executeTakeFirst();
    return row === undefined ? undefined : roomFromRow(row);
  }

  /** Same race-safe shape as registerDevice; a renamed room gets its new name. */
  async registerRoom(input: RegisterRoomInput): Promise<{ record: RoomRecord; created: boolean }> {
    const known = await this.getRoom(input.botName, input.roomId);
    if (known !== undefined) return { record: await this.#refreshRoom(known, input), created: false };

    const now = toDbTime(new Date());
    const result = await this.#live.insertInto('kb_rooms').orIgnore().values({
      bot_name: input.botName,
      room_id: input.roomId,
      room_name: input.roomName,
      status: input.initialStatus,
      approved_at: input.initialStatus === 'approved' ? now : null,
      created_at: now,
      updated_at: now,
    }).executeTakeFirst();
    const created = Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    const record = await this.getRoom(input.botName, input.roomId);
    if (record === undefined) {
      throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: `room ${input.botName}/${input.roomId} not found after insert` });
    }
    return { record: created ? record : await this.#refreshRoom(record, input), created };
  }

  async #refreshRoom(known: RoomRecord, input: RegisterRoomInput): Promise<RoomRecord> {
    if (input.roomName === known.roomName) return known;
    const now = new Date();
    await this.#live.updateTable('kb_rooms')
      .set({ room_name: input.roomName, updated_at: toDbTime(now) })
      .where('bot_name', '=', known.botName).where('room_id', '=', known.roomId)
      .execute();
    return { ...known, roomName: input.roomName, updatedAt: now };
  }

  async setRoomStatus(botName: string, roomId: string, status: ApprovalStatus, reason?: string | null): Promise<boolean> {
    const now = toDbTime(new Date());
    const result = await this.#live.updateTable('kb_rooms')
      .set(status === 'approved'
        ? { status, approved_at: now, rejection_reason: null, updated_at: now }
        : { status, rejection_reason: reason ?? null, updated_at: now })
      .where('bot_name', '=', botName).where('room_id', '=', roomId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listRooms(filter: ListFilter = {}): Promise<RoomRecord[]> {
    let query = this.#live.selectFrom('kb_rooms').select(ROOM_COLUMNS);
    if (filter.botName !== undefined) query = query.where('bot_name', '=', filter.botName);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const rows = await query.orderBy('bot_name').orderBy('room_id').execute();
    return rows.map(roomFromRow);
  }

  async roomsChangedSince(since: Date): Promise<RoomRecord[]> {
    const rows = await this.#live.selectFrom('kb_rooms').select(ROOM_COLUMNS)
      .where('updated_at', '>=', toDbTime(since))
      .orderBy('updated_at').orderBy('bot_name').orderBy('room_id')
      .execute();
    return rows.map(roomFromRow);
  }

  /** One multi-row INSERT per chunk, all chunks of a batch in one transaction (one fsync on SQLite). */
  async insertPings(rows: readonly PingRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = toDbTime(new Date());
    const chunks = chunkRows(rows.map((row) => pingValues(row, now)));
    await this.#live.transaction().execute(async (trx) => {
      for (const chunk of chunks) await trx.insertInto('kb_ping_monitor').values(chunk).execute();
    });
  }

  async insertChatLogs(rows: readonly ChatLogRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = toDbTime(new Date());
    const chunks = chunkRows(rows.map((row) => chatLogValues(row, now)));
    await this.#live.transaction().execute(async (trx) => {
      for (const chunk of chunks) await trx.insertInto('kb_chat_logs').values(chunk).execute();
    });
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (db === null) return;
    this.#db = null;
    await db.destroy();
  }
}
