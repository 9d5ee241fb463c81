import type { ApprovalStatus, Logger, ReloadResult } from '@botbridge/sdk';
import type { RoomRecord, Store } from '../store/types.js';

export interface RoomApproval {
  readonly status: ApprovalStatus;
  readonly concurrency: number | null;
}

export interface ApprovalCacheOptions {
  /** The store is opened when the bridge starts, after this cache is built. */
  readonly store: () => Store;
  readonly log: Logger;
  readonly autoApprove: boolean;
  readonly refreshIntervalMs: number;
  /** Every device and room is re-read in full this often (writers that leave updated_at alone). */
  readonly fullRefreshIntervalMs: number;
  /** Cached approvals stop counting as approved this long after the last successful refresh. */
  readonly staleAfterMs: number;
  /** False while the store is degraded: no new lookups are attempted, they fail closed at once. */
  readonly storeHealthy: () => boolean;
  /** Called when a device's status changed (by this process, another process, or a reload). */
  readonly onDeviceChange: (botName: string, deviceId: string, status: ApprovalStatus) => void;
}

/** Change-feed reads look back this far to cover clock skew between writers and second-resolution clocks. */
const FEED_OVERLAP_MS = 5_000;

const key = (botName: string, id: string) => `${botName}\u0000${id}`;

const UNAPPROVED_ROOM: RoomApproval = { status: 'pending', concurrency: null };

/** A cached entry and the write that produced it (a refresh never overwrites a newer local write). */
interface Entry<T> {
  readonly value: T;
  readonly version: number;
}

/**
 * The in-memory view of device and room approvals that the hot path reads without a store round
 * trip. It fails closed: an unknown or unreadable status is never "approved". Changes written to
 * the store by anyone (CLI, admin pages, another bridge) arrive through a polled change feed
 * (updated_at), so live connections see them within `refreshIntervalMs` plus a query. Writers
 * that change a status without touching updated_at (a PHP page, manual SQL, a table without
 * `ON UPDATE`) and deleted rows are caught by a full re-read every `fullRefreshIntervalMs`.
 *
 * While the store cannot be read, cached approvals keep serving for `staleAfterMs` after the
 * last successful refresh; after that nothing reads as approved until a refresh succeeds.
 */
export class ApprovalCache {
  private readonly devices = new Map<string, Entry<ApprovalStatus>>();
  private readonly rooms = new Map<string, Entry<RoomApproval>>();
  /** Bumped by every write to the maps. */
  private version = 0;
  private lastSyncAt = 0;
  private lastFullRefreshAt = 0;
  /** One lookup per room at a time: its waiters resume in arrival order (room FIFO is kept). */
  private readonly roomLookups = new Map<string, Promise<RoomApproval>>();
  private timer: NodeJS.Timeout | undefined;
  private lastPoll = new Date(0);
  private polling = false;

  constructor(private readonly options: ApprovalCacheOptions) {}

  /**
   * Loads every device and every room (small tables): handshakes of known devices need no
   * query, and a room's `room_concurrency` is known before its first message is dispatched
   * (the dispatcher sizes a room's lane when the lane is created).
   */
  async load(): Promise<void> {
    const started = new Date();
    const [devices, rooms] = await Promise.all([this.options.store().listDevices(), this.options.store().listRooms()]);
    for (const device of devices) this.setDevice(key(device.botName, device.deviceId), device.status);
    for (const room of rooms) this.rememberRoom(room);
    this.lastPoll = started;
    this.lastSyncAt = started.getTime();
    this.lastFullRefreshAt = started.getTime();
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.options.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True while the last successful refresh is at most `staleAfterMs` old. */
  isFresh(now: number = Date.now()): boolean {
    return now - this.lastSyncAt <= this.options.staleAfterMs;
  }

  /** The device's status as the hot path may use it: `approved` reads as `pending` once stale. */
  deviceStatus(botName: string, deviceId: string): ApprovalStatus | undefined {
    return this.deviceStatusOf(key(botName, deviceId));
  }

  /** The key `deviceStatusOf` takes: a session makes it once rather than per message. */
  static deviceKey(botName: string, deviceId: string): string {
    return key(botName, deviceId);
  }

  /** deviceStatus by a key from `deviceKey`. */
  deviceStatusOf(deviceKey: string): ApprovalStatus | undefined {
    const status = this.devices.get(deviceKey)?.value;
    return status === 'approved' && !this.isFresh() ? 'pending' : status;
  }

  /**
   * Whether any device of the bot is approved in the store (ignoring staleness: the outbox asks
   * whether a reply could ever be delivered, not whether it may be sent now). A scan of the
   * devices, for the rare reply that finds no live device.
   */
  hasApprovedDevice(botName: string): boolean {
    const prefix = key(botName, '');
    for (const [k, entry] of this.devices) if (entry.value === 'approved' && k.startsWith(prefix)) return true;
    return false;
  }

  /** The cached room approval, with the same staleness rule as deviceStatus. */
  roomApproval(botName: string, roomId: string): RoomApproval | undefined {
    const room = this.rooms.get(key(botName, roomId))?.value;
    return room?.status === 'approved' && !this.isFresh() ? { ...room, status: 'pending' } : room;
  }

  /** Registers a device on first contact (or refreshes a known one) and returns its status. */
  async registerDevice(input: {
    botName: string;
    deviceId: string;
    ipAddress: string | null;
    clientType: string;
    clientVersion: string;
  }): Promise<{ status: ApprovalStatus; created: boolean }> {
    const { record, created } = await this.options.store().registerDevice({
      ...input,
      initialStatus: this.options.autoApprove ? 'approved' : 'pending',
    });
    this.setDevice(key(record.botName, record.deviceId), record.status);
    if (created && this.options.autoApprove) {
      this.options.log.warn({ botName: record.botName, deviceId: record.deviceId }, 'AUTO-APPROVE: device approved on first contact');
    }
    return { status: record.status, created };
  }

  /** The room's approval, registering the room as pending on its first message. */
  ensureRoom(botName: string, roomId: string, roomName: string): Promise<RoomApproval> {
    const k = key(botName, roomId);
    const cached = this.roomApproval(botName, roomId);
    if (cached) return Promise.resolve(cached);
    // Fail closed at once: a lookup against a store known to be down would only hold a slot.
    if (!this.options.storeHealthy()) return Promise.resolve(UNAPPROVED_ROOM);
    let lookup = this.roomLookups.get(k);
    if (!lookup) {
      lookup = this.registerRoom(botName, roomId, roomName).finally(() => this.roomLookups.delete(k));
      this.roomLookups.set(k, lookup);
    }
    return lookup;
  }

  private async registerRoom(botName: string, roomId: string, roomName: string): Promise<RoomApproval> {
    const { record, created } = await this.options.store().registerRoom({
      botName,
      roomId,
      roomName,
      initialStatus: this.options.autoApprove ? 'approved' : 'pending',
    });
    if (created && this.options.autoApprove) {
      this.options.log.warn({ botName, roomId, room: roomName }, 'AUTO-APPROVE: room approved on first contact');
    }
    return this.rememberRoom(record);
  }

  async setDeviceStatus(botName: string, deviceId: string, status: ApprovalStatus, reason?: string): Promise<boolean> {
    const found = await this.options.store().setDeviceStatus(botName, deviceId, status, reason ?? null);
    if (found) this.applyDevice(botName, deviceId, status);
    return found;
  }

  async setRoomStatus(botName: string, roomId: string, status: ApprovalStatus, reason?: string): Promise<boolean> {
    const found = await this.options.store().setRoomStatus(botName, roomId, status, reason ?? null);
    if (found) {
      const room = await this.options.store().getRoom(botName, roomId);
      if (room) this.rememberRoom(room);
    }
    return found;
  }

  /**
   * Re-reads every device and every room now (`# reload bots-config`, and every
   * `fullRefreshIntervalMs`). A device or room whose row is gone is forgotten (unknown is never
   * approved); entries written by this process while the read was under way are kept.
   */
  async reload(): Promise<ReloadResult> {
    const started = new Date();
    const since = this.version;
    const [devices, rooms] = await Promise.all([this.options.store().listDevices(), this.options.store().listRooms()]);
    let changed = 0;
    const seenDevices = new Set<string>();
    for (const device of devices) {
      const k = key(device.botName, device.deviceId);
      seenDevices.add(k);
      if (this.isNewerThan(this.devices.get(k), since)) continue;
      if (this.applyDevice(device.botName, device.deviceId, device.status)) changed += 1;
    }
    for (const [k, entry] of this.devices) {
      if (seenDevices.has(k) || entry.version > since) continue;
      this.devices.delete(k);
      const [botName = '', deviceId = ''] = k.split('\u0000');
      this.options.onDeviceChange(botName, deviceId, 'pending');
      changed += 1;
    }
    const seenRooms = new Set<string>();
    for (const room of rooms) {
      const k = key(room.botName, room.roomId);
      seenRooms.add(k);
      if (!this.isNewerThan(this.rooms.get(k), since)) this.rememberRoom(room);
    }
    for (const [k, entry] of this.rooms) if (!seenRooms.has(k) && entry.version <= since) this.rooms.delete(k);
    this.lastPoll = started;
    this.lastSyncAt = started.getTime();
    this.lastFullRefreshAt = started.getTime();
    return { devices: devices.length, changed };
  }

  private isNewerThan(entry: Entry<unknown> | undefined, version: number): boolean {
    return entry !== undefined && entry.version > version;
  }

  /**
   * One refresh round: the change feed, or a full re-read when one is due. Errors keep the
   * cached view (fail closed on new entries only, and on everything once stale).
   */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const started = new Date();
    const since = new Date(this.lastPoll.getTime() - FEED_OVERLAP_MS);
    const version = this.version;
    try {
      if (started.getTime() - this.lastFullRefreshAt >= this.options.fullRefreshIntervalMs) {
        await this.reload();
        return;
      }
      const [devices, rooms] = await Promise.all([
        this.options.store().devicesChangedSince(since),
        this.options.store().roomsChangedSince(since),
      ]);
      for (const device of devices) {
        if (!this.isNewerThan(this.devices.get(key(device.botName, device.deviceId)), version)) this.applyDevice(device.botName, device.deviceId, device.status);
      }
      for (const room of rooms) {
        if (!this.isNewerThan(this.rooms.get(key(room.botName, room.roomId)), version)) this.rememberRoom(room);
      }
      this.lastPoll = started;
      this.lastSyncAt = started.getTime();
    } catch (error) {
      // An outage is logged once by the store's health transition, not at every poll.
      const level = this.options.storeHealthy() ? 'warn' : 'debug';
      this.options.log[level]({ err: error }, 'approval refresh failed; keeping cached approvals');
    } finally {
      this.polling = false;
    }
  }

  /**
   * Cluster mode: a node or the CLI announced a change of this device's or room's approval on
   * NATS; its row is re-read now instead of at the next poll. The row decides, never the event,
   * so a revocation always wins (the poll stays as the fallback while NATS is down).
   */
  async refreshEntry(kind: 'device' | 'room', botName: string, id: string): Promise<void> {
    if (kind === 'device') {
      const row = await this.options.store().getDevice(botName, id);
      if (row) this.applyDevice(botName, id, row.status);
      return;
    }
    const room = await this.options.store().getRoom(botName, id);
    if (room) this.rememberRoom(room);
  }

  private setDevice(k: string, status: ApprovalStatus): void {
    this.version += 1;
    this.devices.set(k, { value: status, version: this.version });
  }

  private applyDevice(botName: string, deviceId: string, status: ApprovalStatus): boolean {
    const k = key(botName, deviceId);
    const before = this.devices.get(k)?.value;
    if (before === status) return false;
    this.setDevice(k, status);
    if (before !== undefined) this.options.onDeviceChange(botName, deviceId, status);
    return true;
  }

  private rememberRoom(room: RoomRecord): RoomApproval {
    const approval = { status: room.status, concurrency: room.roomConcurrency };
    this.version += 1;
    this.rooms.set(key(room.botName, room.roomId), { value: approval, version: this.version });
    return approval;
  }
}

