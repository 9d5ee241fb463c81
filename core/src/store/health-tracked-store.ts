import type { PluginDatabase } from '@botbridge/sdk';
import type { ApprovalStatus } from '@botbridge/sdk';
import type { StoreHealth } from './store-health.js';
import type {
  ChatLogRow, DeviceRecord, JournalCommit, JournalEntry, JournalKey, ListFilter, OutboxEntry, OutboxRoom, OutboxRow, PingRow, PushKeyRecord, RegisterDeviceInput, RegisterRoomInput, RetentionTable, RoomRecord, Store,
  SystemSampleRow,
} from './types.js';

/**
 * A store that reports every call's outcome to a StoreHealth, so the bridge knows without
 * probing whether the database answers. Errors pass through unchanged.
 */
export class HealthTrackedStore implements Store {
  readonly dialect: Store['dialect'];
  readonly description: string;

  constructor(
    private readonly inner: Store,
    private readonly health: StoreHealth,
  ) {
    this.dialect = inner.dialect;
    this.description = inner.description;
  }

  private async track<T>(call: () => Promise<T>): Promise<T> {
    let value: T;
    try {
      value = await call();
    } catch (error) {
      this.health.failed(error);
      throw error;
    }
    this.health.answered();
    return value;
  }

  migrate(): Promise<void> {
    return this.track(() => this.inner.migrate());
  }

  /** Not tracked: a plugin's own queries report their errors to the plugin. */
  pluginDatabase(): PluginDatabase {
    return this.inner.pluginDatabase();
  }

  healthCheck(): Promise<void> {
    return this.track(() => this.inner.healthCheck());
  }

  getDevice(botName: string, deviceId: string): Promise<DeviceRecord | undefined> {
    return this.track(() => this.inner.getDevice(botName, deviceId));
  }

  registerDevice(input: RegisterDeviceInput): Promise<{ record: DeviceRecord; created: boolean }> {
    return this.track(() => this.inner.registerDevice(input));
  }

  setDeviceStatus(botName: string, deviceId: string, status: ApprovalStatus, reason?: string | null): Promise<boolean> {
    return this.track(() => this.inner.setDeviceStatus(botName, deviceId, status, reason));
  }

  listDevices(filter?: ListFilter): Promise<DeviceRecord[]> {
    return this.track(() => this.inner.listDevices(filter));
  }

  devicesChangedSince(since: Date): Promise<DeviceRecord[]> {
    return this.track(() => this.inner.devicesChangedSince(since));
  }

  getRoom(botName: string, roomId: string): Promise<RoomRecord | undefined> {
    return this.track(() => this.inner.getRoom(botName, roomId));
  }

  registerRoom(input: RegisterRoomInput): Promise<{ record: RoomRecord; created: boolean }> {
    return this.track(() => this.inner.registerRoom(input));
  }

  setRoomStatus(botName: string, roomId: string, status: ApprovalStatus, reason?: string | null): Promise<boolean> {
    return this.track(() => this.inner.setRoomStatus(botName, roomId, status, reason));
  }

  listRooms(filter?: ListFilter): Promise<RoomRecord[]> {
    return this.track(() => this.inner.listRooms(filter));
  }

  roomsChangedSince(since: Date): Promise<RoomRecord[]> {
    return this.track(() => this.inner.roomsChangedSince(since));
  }

  insertPings(rows: readonly PingRow[]): Promise<void> {
    return this.track(() => this.inner.insertPings(rows));
  }

  insertChatLogs(rows: readonly ChatLogRow[]): Promise<void> {
    return this.track(() => this.inner.insertChatLogs(rows));
  }

  insertSystemSamples(rows: readonly SystemSampleRow[]): Promise<void> {
    return this.track(() => this.inner.insertSystemSamples(rows));
  }

  deleteOlderThan(table: RetentionTable, before: Date, limit: number): Promise<number> {
    return this.track(() => this.inner.deleteOlderThan(table, before, limit));
  }

  writeJournal(commit: JournalCommit): Promise<void> {
    return this.track(() => this.inner.writeJournal(commit));
  }

  journalKeysSince(since: Date, limit: number): Promise<(JournalKey & { readonly admittedAt: Date })[]> {
    return this.track(() => this.inner.journalKeysSince(since, limit));
  }

  journalPending(limit: number, nodeId?: string): Promise<JournalEntry[]> {
    return this.track(() => this.inner.journalPending(limit, nodeId));
  }

  journalKeysOfDevice(botName: string, deviceId: string, since: Date, limit: number): Promise<(JournalKey & { readonly admittedAt: Date })[]> {
    return this.track(() => this.inner.journalKeysOfDevice(botName, deviceId, since, limit));
  }

  journalOwners(): Promise<string[]> {
    return this.track(() => this.inner.journalOwners());
  }

  claimJournal(deadNodeId: string, nodeId: string, limit: number, device?: { botName: string; deviceId: string }): Promise<JournalEntry[]> {
    return this.track(() => this.inner.claimJournal(deadNodeId, nodeId, limit, device));
  }

  restoreJournal(nodeId: string, entries: readonly JournalEntry[]): Promise<number> {
    return this.track(() => this.inner.restoreJournal(nodeId, entries));
  }

  expireJournal(before: Date): Promise<number> {
    return this.track(() => this.inner.expireJournal(before));
  }

  pruneJournal(before: Date, limit: number): Promise<number> {
    return this.track(() => this.inner.pruneJournal(before, limit));
  }

  claimPushKey(caller: string, key: string, fingerprint: string, now: Date, expiresAt: Date): Promise<boolean> {
    return this.track(() => this.inner.claimPushKey(caller, key, fingerprint, now, expiresAt));
  }

  getPushKey(caller: string, key: string): Promise<PushKeyRecord | undefined> {
    return this.track(() => this.inner.getPushKey(caller, key));
  }

  settlePushKey(caller: string, key: string, result: string): Promise<void> {
    return this.track(() => this.inner.settlePushKey(caller, key, result));
  }

  releasePushKey(caller: string, key: string): Promise<void> {
    return this.track(() => this.inner.releasePushKey(caller, key));
  }

  prunePushKeys(now: Date): Promise<number> {
    return this.track(() => this.inner.prunePushKeys(now));
  }

  insertOutbox(entry: OutboxEntry): Promise<number> {
    return this.track(() => this.inner.insertOutbox(entry));
  }

  outboxOfRoom(botName: string, roomKey: string, limit: number, nodeId?: string): Promise<OutboxRow[]> {
    return this.track(() => this.inner.outboxOfRoom(botName, roomKey, limit, nodeId));
  }

  expiredOutbox(botName: string, roomKey: string, now: Date, limit: number, nodeId?: string): Promise<{ id: number; traceId: string; room: string }[]> {
    return this.track(() => this.inner.expiredOutbox(botName, roomKey, now, limit, nodeId));
  }

  outboxRoomsWithExpired(now: Date, limit: number, nodeId?: string): Promise<{ botName: string; roomKey: string }[]> {
    return this.track(() => this.inner.outboxRoomsWithExpired(now, limit, nodeId));
  }

  deleteOutbox(ids: readonly number[]): Promise<number> {
    return this.track(() => this.inner.deleteOutbox(ids));
  }

  outboxRooms(nodeId?: string): Promise<OutboxRoom[]> {
    return this.track(() => this.inner.outboxRooms(nodeId));
  }

  outboxOwners(): Promise<string[]> {
    return this.track(() => this.inner.outboxOwners());
  }

  claimOutbox(deadNodeId: string, nodeId: string): Promise<OutboxRoom[]> {
    return this.track(() => this.inner.claimOutbox(deadNodeId, nodeId));
  }

  /** Closing is not a health signal. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
