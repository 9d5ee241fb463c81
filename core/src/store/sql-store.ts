import { sql } from 'kysely';
import type { CompiledQuery, Kysely } from 'kysely';
import type { ApprovalStatus, PluginDatabase } from '@botbridge/sdk';
import { pluginDatabase } from './plugin-database.js';
import { BridgeError, reasonOf } from '../errors.js';
import { UTC_CLOCK } from './db-time.js';
import type { Dialect } from './dialects/dialect.js';
import type { DbClock } from './db-time.js';
import * as journal from './journal-queries.js';
import { migrateToLatest } from './migrations.js';
import * as outbox from './outbox-queries.js';
import * as pushKeys from './push-key-queries.js';
import * as writes from './monitor-writes.js';
import {
  DEVICE_COLUMNS, deviceFromRow, legacyRoomKey, ROOM_COLUMNS, roomFromRow, roomKeyCandidates,
} from './record-mappers.js';
import type { DeviceRow, RowContext } from './record-mappers.js';
import type { Database } from './schema.js';
import { detectLayout, OWN_LAYOUT } from './store-layout.js';
import type { StoreLayout } from './store-layout.js';
import type {
  ChatLogRow, DeviceRecord, JournalCommit, JournalEntry, JournalKey, ListFilter, OutboxEntry, OutboxRoom, OutboxRow, PingRow, PushKeyRecord, RegisterDeviceInput, RegisterRoomInput, RetentionTable, RoomRecord, Store,
  SystemSampleRow,
} from './types.js';

/** What a dialect opens (its `open`), for a SqlStore to run on. */
export interface StoreConnection extends Omit<SqlStoreOptions, 'dialect'> {
  readonly db: Kysely<Database>;
}

export interface SqlStoreOptions {
  /** Its name is `Store.dialect`; the migrations ask it for types and schema lookups. */
  readonly dialect: Dialect;
  /** Redacted: never holds a password. */
  readonly description: string;
  /** How instants map to the database's wall-clock strings (UTC unless the MySQL opener says otherwise). */
  readonly clock?: DbClock;
  /** How batches of chat-log, ping and system rows are inserted; default: Kysely multi-row INSERTs. */
  readonly insertRows?: writes.InsertRows;
  /** Starts what `insertRows` writes through (a writer thread) once the tables exist. */
  readonly startWriter?: () => void;
  /** Closes what `insertRows` writes through (a writer thread), before the database closes. */
  readonly closeWriter?: () => Promise<void>;
  /** Runs statements in one transaction off the event loop (the SQLite writer thread); the journal's commits use it. */
  readonly writeStatements?: journal.WriteStatements;
}

/**
 * The one query layer: every query of every dialect lives here (and in monitor-writes.ts),
 * written once against Kysely. Dialect-specific code is limited to the dialect objects
 * (dialects/): opening the connection, column types and schema lookups for the migrations.
 *
 * Status changes and registrations stamp `updated_at`, and the change feeds select on it, so a
 * change written by another process (the CLI while the server runs, the PHP admin on MySQL) is
 * seen by the next poll. Pollers should overlap their `since` a little: a writer stamps the time
 * before its commit becomes visible. Writers that do not stamp `updated_at` are caught by the
 * approval cache's periodic full reconcile.
 */
export class SqlStore implements Store {
  readonly dialect: string;
  readonly description: string;
  readonly clock: DbClock;
  readonly #dialect: Dialect;
  #db: Kysely<Database> | null;
  #layout: StoreLayout = OWN_LAYOUT;
  readonly #insertRows: writes.InsertRows;
  readonly #closeWriter: (() => Promise<void>) | undefined;
  readonly #startWriter: (() => void) | undefined;
  readonly #writeJournal: ((commit: JournalCommit) => Promise<void>) | undefined;

  constructor(db: Kysely<Database>, options: SqlStoreOptions) {
    this.#db = db;
    this.#insertRows = options.insertRows ?? writes.multiRowInsert(db);
    this.#closeWriter = options.closeWriter;
    this.#startWriter = options.startWriter;
    this.#writeJournal = options.writeStatements === undefined ? undefined : journal.journalThreadWriter(db, options.clock ?? UTC_CLOCK, options.writeStatements);
    this.#dialect = options.dialect;
    this.dialect = options.dialect.name;
    this.description = options.description;
    this.clock = options.clock ?? UTC_CLOCK;
  }

  get #live(): Kysely<Database> {
    if (this.#db === null) throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: `${this.description} is closed` });
    return this.#db;
  }

  #now(): string {
    return this.clock.toDb(new Date());
  }

  #rowContext(): RowContext {
    return { clock: this.clock, layout: this.#layout, now: this.#now() };
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.#live, this.#dialect);
    this.#layout = await detectLayout(this.#live, this.#dialect);
    this.#startWriter?.();
  }

  async healthCheck(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#live);
    } catch (error) {
      if (error instanceof BridgeError) throw error;
      throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: reasonOf(error) }, { cause: error });
    }
  }

  /**
   * Every handshake of a new device runs it twice: compiled by Kysely once (its two parameters
   * are bot_name, device_id in that order) and run again with each device's values.
   */
  #getDeviceQuery: CompiledQuery<DeviceRow> | undefined;
  #insertDeviceQuery: CompiledQuery | undefined;

  async getDevice(botName: string, deviceId: string): Promise<DeviceRecord | undefined> {
    const db = this.#live;
    this.#getDeviceQuery ??= compiledWithParameters(
      db.selectFrom('kb_bot_devices').select(DEVICE_COLUMNS).where('bot_name', '=', '\u0000bot').where('device_id', '=', '\u0000device'),
      ['\u0000bot', '\u0000device'],
    );
    const { rows } = await db.executeQuery<DeviceRow>({ ...this.#getDeviceQuery, parameters: [botName, deviceId] });
    const row = rows[0];
    return row === undefined ? undefined : deviceFromRow(row, this.clock);
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

    const now = this.#now();
    const db = this.#live;
    const values = {
      bot_name: input.botName,
      device_id: input.deviceId,
      ip_address: input.ipAddress,
      client_type: input.clientType,
      client_version: input.clientVersion,
      status: input.initialStatus,
      approved_at: input.initialStatus === 'approved' ? now : null,
      created_at: now,
      updated_at: now,
    };
    // Compiled by Kysely once (every value is a parameter, in the object's key order), then reused.
    this.#insertDeviceQuery ??= compiledWithParameters(db.insertInto('kb_bot_devices').orIgnore().values(values), Object.values(values));
    const result = await db.executeQuery({ ...this.#insertDeviceQuery, parameters: Object.values(values) });
    const created = Number(result.numAffectedRows ?? 0n) > 0;
    const record = await this.getDevice(input.botName, input.deviceId);
    if (record === undefined) {
      // Ignored, yet not there: an old deployment's UNIQUE(device_id) holds this phone for another bot.
      throw new BridgeError('BRIDGE_ERR_STORE_KEY_CONFLICT', {
        table: 'kb_bot_devices',
        key: `${input.botName}/${input.deviceId}`,
        reason: 'a unique key on device_id alone holds this device for another bot',
      });
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
      .set({ ip_address: ipAddress, client_type: clientType, client_version: clientVersion, updated_at: this.clock.toDb(now) })
      .where('bot_name', '=', known.botName).where('device_id', '=', known.deviceId)
      .execute();
    return { ...known, ipAddress, clientType, clientVersion, updatedAt: now };
  }

  /**
   * Approving stamps `approved_at` and clears the reason; other statuses keep `approved_at` (the
   * last approval) and record the reason. MySQL counts only rows whose values changed as
   * "affected": the MySQL opener sets CLIENT_FOUND_ROWS so a same-millisecond repeat still
   * reports the row as found.
   */
  async setDeviceStatus(botName: string, deviceId: string, status: ApprovalStatus, reason?: string | null): Promise<boolean> {
    const now = this.#now();
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
    return rows.map((row) => deviceFromRow(row, this.clock));
  }

  async devicesChangedSince(since: Date): Promise<DeviceRecord[]> {
    const rows = await this.#live.selectFrom('kb_bot_devices').select(DEVICE_COLUMNS)
      .where('updated_at', '>=', this.clock.toDb(since))
      .orderBy('updated_at').orderBy('bot_name').orderBy('device_id')
      .execute();
    return rows.map((row) => deviceFromRow(row, this.clock));
  }

  /** Finds the room under its plain key or an old deployment's `<channelId>_<botName>` key (the plain one wins). */
  async getRoom(botName: string, roomId: string): Promise<RoomRecord | undefined> {
    const rows = await this.#live.selectFrom('kb_rooms').select(ROOM_COLUMNS)
      .where('bot_name', '=', botName).where('room_id', 'in', roomKeyCandidates(botName, roomId))
      .execute();
    const row = rows.find((r) => r.room_id === roomId) ?? rows[0];
    return row === undefined ? undefined : roomFromRow(row, this.clock);
  }

  /**
   * Same race-safe shape as registerDevice; a renamed room gets its new name. A new room is
   * written under its plain key; when an old table's PRIMARY KEY(room_id) already holds that key
   * for another bot, under the old deployments' `<channelId>_<botName>` key instead.
   */
  async registerRoom(input: RegisterRoomInput): Promise<{ record: RoomRecord; created: boolean }> {
    const known = await this.getRoom(input.botName, input.roomId);
    if (known !== undefined) return { record: await this.#refreshRoom(known, input), created: false };

    let created = await this.#insertRoom(input, input.roomId);
    let record = await this.getRoom(input.botName, input.roomId);
    if (record === undefined) {
      created = await this.#insertRoom(input, legacyRoomKey(input.botName, input.roomId));
      record = await this.getRoom(input.botName, input.roomId);
    }
    if (record === undefined) {
      throw new BridgeError('BRIDGE_ERR_STORE_KEY_CONFLICT', {
        table: 'kb_rooms',
        key: `${input.botName}/${input.roomId}`,
        reason: 'a unique key on room_id alone holds both keys of this room for other rows',
      });
    }
    return { record: created ? record : await this.#refreshRoom(record, input), created };
  }

  async #insertRoom(input: RegisterRoomInput, storedKey: string): Promise<boolean> {
    const now = this.#now();
    const result = await this.#live.insertInto('kb_rooms').orIgnore().values({
      bot_name: input.botName,
      room_id: storedKey,
      room_name: input.roomName,
      status: input.initialStatus,
      approved_at: input.initialStatus === 'approved' ? now : null,
      created_at: now,
      updated_at: now,
    }).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async #refreshRoom(known: RoomRecord, input: RegisterRoomInput): Promise<RoomRecord> {
    if (input.roomName === known.roomName) return known;
    const now = new Date();
    await this.#live.updateTable('kb_rooms')
      .set({ room_name: input.roomName, updated_at: this.clock.toDb(now) })
      .where('bot_name', '=', known.botName).where('room_id', 'in', roomKeyCandidates(known.botName, known.roomId))
      .execute();
    return { ...known, roomName: input.roomName, updatedAt: now };
  }

  async setRoomStatus(botName: string, roomId: string, status: ApprovalStatus, reason?: string | null): Promise<boolean> {
    const now = this.#now();
    const result = await this.#live.updateTable('kb_rooms')
      .set(status === 'approved'
        ? { status, approved_at: now, rejection_reason: null, updated_at: now }
        : { status, rejection_reason: reason ?? null, updated_at: now })
      .where('bot_name', '=', botName).where('room_id', 'in', roomKeyCandidates(botName, roomId))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listRooms(filter: ListFilter = {}): Promise<RoomRecord[]> {
    let query = this.#live.selectFrom('kb_rooms').select(ROOM_COLUMNS);
    if (filter.botName !== undefined) query = query.where('bot_name', '=', filter.botName);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const rows = await query.orderBy('bot_name').orderBy('room_id').execute();
    return rows.map((row) => roomFromRow(row, this.clock));
  }

  async roomsChangedSince(since: Date): Promise<RoomRecord[]> {
    const rows = await this.#live.selectFrom('kb_rooms').select(ROOM_COLUMNS)
      .where('updated_at', '>=', this.clock.toDb(since))
      .orderBy('updated_at').orderBy('bot_name').orderBy('room_id')
      .execute();
    return rows.map((row) => roomFromRow(row, this.clock));
  }

  async insertPings(rows: readonly PingRow[]): Promise<void> {
    void this.#live; // throws once closed
    await writes.insertPings(this.#insertRows, rows, this.#rowContext());
  }

  async insertChatLogs(rows: readonly ChatLogRow[]): Promise<void> {
    void this.#live; // throws once closed
    await writes.insertChatLogs(this.#insertRows, rows, this.#rowContext());
  }

  async insertSystemSamples(rows: readonly SystemSampleRow[]): Promise<void> {
    void this.#live; // throws once closed
    await writes.insertSystemSamples(this.#insertRows, rows, this.#rowContext());
  }

  async deleteOlderThan(table: RetentionTable, before: Date, limit: number): Promise<number> {
    return writes.deleteOlderThan(this.#live, table, this.clock.toDb(before), limit);
  }

  async writeJournal(commit: JournalCommit): Promise<void> {
    const db = this.#live;
    await (this.#writeJournal !== undefined ? this.#writeJournal(commit) : journal.writeJournal(db, this.clock, commit));
  }

  async journalKeysSince(since: Date, limit: number): Promise<(JournalKey & { readonly admittedAt: Date })[]> {
    return journal.journalKeysSince(this.#live, this.clock, since, limit);
  }

  async journalPending(limit: number, nodeId?: string): Promise<JournalEntry[]> {
    return journal.journalPending(this.#live, this.clock, limit, nodeId);
  }

  async journalKeysOfDevice(botName: string, deviceId: string, since: Date, limit: number): Promise<(JournalKey & { readonly admittedAt: Date })[]> {
    return journal.journalKeysOfDevice(this.#live, this.clock, botName, deviceId, since, limit);
  }

  async journalOwners(): Promise<string[]> {
    return journal.journalOwners(this.#live);
  }

  async claimJournal(deadNodeId: string, nodeId: string, limit: number, device?: { botName: string; deviceId: string }): Promise<JournalEntry[]> {
    return journal.claimJournal(this.#live, this.clock, deadNodeId, nodeId, limit, device);
  }

  async restoreJournal(nodeId: string, entries: readonly JournalEntry[]): Promise<number> {
    return journal.restoreJournal(this.#live, this.clock, nodeId, entries);
  }

  async expireJournal(before: Date): Promise<number> {
    return journal.expireJournal(this.#live, this.clock, before);
  }

  async pruneJournal(before: Date, limit: number): Promise<number> {
    return journal.pruneJournal(this.#live, this.clock, before, limit);
  }

  async claimPushKey(caller: string, key: string, fingerprint: string, now: Date, expiresAt: Date): Promise<boolean> {
    return pushKeys.claimPushKey(this.#live, this.clock, caller, key, fingerprint, now, expiresAt);
  }

  async getPushKey(caller: string, key: string): Promise<PushKeyRecord | undefined> {
    return pushKeys.getPushKey(this.#live, this.clock, caller, key);
  }

  async settlePushKey(caller: string, key: string, result: string): Promise<void> {
    return pushKeys.settlePushKey(this.#live, caller, key, result);
  }

  async releasePushKey(caller: string, key: string): Promise<void> {
    return pushKeys.releasePushKey(this.#live, caller, key);
  }

  async prunePushKeys(now: Date): Promise<number> {
    return pushKeys.prunePushKeys(this.#live, this.clock, now);
  }

  async insertOutbox(entry: OutboxEntry): Promise<number> {
    return outbox.insertOutbox(this.#live, this.clock, entry);
  }

  async outboxOfRoom(botName: string, roomKey: string, limit: number, nodeId?: string): Promise<OutboxRow[]> {
    return outbox.outboxOfRoom(this.#live, this.clock, botName, roomKey, limit, nodeId);
  }

  async expiredOutbox(botName: string, roomKey: string, now: Date, limit: number, nodeId?: string): Promise<{ id: number; traceId: string; room: string }[]> {
    return outbox.expiredOfRoom(this.#live, this.clock, botName, roomKey, now, limit, nodeId);
  }

  async outboxRoomsWithExpired(now: Date, limit: number, nodeId?: string): Promise<{ botName: string; roomKey: string }[]> {
    return outbox.roomsWithExpired(this.#live, this.clock, now, limit, nodeId);
  }

  async deleteOutbox(ids: readonly number[]): Promise<number> {
    return outbox.deleteOutbox(this.#live, ids);
  }

  async outboxRooms(nodeId?: string): Promise<OutboxRoom[]> {
    return outbox.outboxRooms(this.#live, nodeId);
  }

  async outboxOwners(): Promise<string[]> {
    return outbox.outboxOwners(this.#live);
  }

  async claimOutbox(deadNodeId: string, nodeId: string): Promise<OutboxRoom[]> {
    return outbox.claimOutbox(this.#live, deadNodeId, nodeId);
  }

  #pluginDatabase: PluginDatabase | undefined;

  pluginDatabase(): PluginDatabase {
    this.#pluginDatabase ??= pluginDatabase(this.#live, this.#dialect, this.clock);
    return this.#pluginDatabase;
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (db === null) return;
    this.#db = null;
    try {
      await this.#closeWriter?.();
    } finally {
      await db.destroy();
    }
  }
}

/**
 * A query Kysely compiled once, to be run again with other values in place of `parameters`: it
 * must have compiled to exactly these parameters, in this order (else the reuse would misplace
 * values, so it fails loudly).
 */
function compiledWithParameters<R>(query: { compile(): CompiledQuery<R> }, parameters: readonly unknown[]): CompiledQuery<R> {
  const compiled = query.compile();
  if (compiled.parameters.length !== parameters.length || compiled.parameters.some((p, i) => p !== parameters[i])) {
    throw new Error(`unexpected parameters compiling ${compiled.sql}`);
  }
  return compiled;
}
