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
  /** Called when a device's status changed (by this process, another process, or a reload). */
  readonly onDeviceChange: (botName: string, deviceId: string, status: ApprovalStatus) => void;
}

/** Change-feed reads look back this far to cover clock skew between writers and second-resolution clocks. */
const FEED_OVERLAP_MS = 5_000;

const key = (botName: string, id: string) => `${botName}\u0000${id}`;

/**
 * The in-memory view of device and room approvals that the hot path reads without a store round
 * trip. It fails closed: an unknown or unreadable status is never "approved". Changes written to
 * the store by anyone (CLI, admin pages, another bridge) arrive through a polled change feed
 * (updated_at), so live connections see them within `refreshIntervalMs` plus a query.
 */
export class ApprovalCache {
  private readonly devices = new Map<string, ApprovalStatus>();
  private readonly rooms = new Map<string, RoomApproval>();
  /** One lookup per room at a time: its waiters resume in arrival order (room FIFO is kept). */
  private readonly roomLookups = new Map<string, Promise<RoomApproval>>();
  private timer: NodeJS.Timeout | undefined;
  private lastPoll = new Date(0);
  private polling = false;

  constructor(private readonly options: ApprovalCacheOptions) {}

  /** Loads every device (a small table) so that handshakes of known devices need no query. */
  async load(): Promise<void> {
    const started = new Date();
    for (const device of await this.options.store().listDevices()) this.devices.set(key(device.botName, device.deviceId), device.status);
    this.lastPoll = started;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.options.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  deviceStatus(botName: string, deviceId: string): ApprovalStatus | undefined {
    return this.devices.get(key(botName, deviceId));
  }

  roomApproval(botName: string, roomId: string): RoomApproval | undefined {
    return this.rooms.get(key(botName, roomId));
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
    this.devices.set(key(record.botName, record.deviceId), record.status);
    if (created && this.options.autoApprove) {
      this.options.log.warn({ botName: record.botName, deviceId: record.deviceId }, 'AUTO-APPROVE: device approved on first contact');
    }
    return { status: record.status, created };
  }

  /** The room's approval, registering the room as pending on its first message. */
  ensureRoom(botName: string, roomId: string, roomName: string): Promise<RoomApproval> {
    const k = key(botName, roomId);
    const cached = this.rooms.get(k);
    if (cached) return Promise.resolve(cached);
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

  /** Re-reads every device and every cached room now (`# reload bots-config`). */
  async reload(): Promise<ReloadResult> {
    const started = new Date();
    const devices = await this.options.store().listDevices();
    let changed = 0;
    for (const device of devices) if (this.applyDevice(device.botName, device.deviceId, device.status)) changed += 1;
    for (const room of await this.options.store().listRooms()) {
      if (this.rooms.has(key(room.botName, room.roomId))) this.rememberRoom(room);
    }
    this.lastPoll = started;
    return { devices: devices.length, changed };
  }

  /** One change-feed round; errors keep the cached view (fail closed on new entries only). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const started = new Date();
    const since = new Date(this.lastPoll.getTime() - FEED_OVERLAP_MS);
    try {
      const [devices, rooms] = await Promise.all([
        this.options.store().devicesChangedSince(since),
        this.options.store().roomsChangedSince(since),
      ]);
      for (const device of devices) this.applyDevice(device.botName, device.deviceId, device.status);
      for (const room of rooms) this.applyRoom(room);
      this.lastPoll = started;
    } catch (error) {
      this.options.log.warn({ err: error }, 'approval refresh failed; keeping cached approvals');
    } finally {
      this.polling = false;
    }
  }

  private applyDevice(botName: string, deviceId: string, status: ApprovalStatus): boolean {
    const k = key(botName, deviceId);
    const before = this.devices.get(k);
    this.devices.set(k, status);
    if (before === status) return false;
    if (before !== undefined) this.options.onDeviceChange(botName, deviceId, status);
    return true;
  }

  /** Rooms are cached lazily: a change to a room nobody talked in yet needs no memory. */
  private applyRoom(room: RoomRecord): void {
    if (this.rooms.has(key(room.botName, room.roomId))) this.rememberRoom(room);
  }

  private rememberRoom(room: RoomRecord): RoomApproval {
    const approval = { status: room.status, concurrency: room.roomConcurrency };
    this.rooms.set(key(room.botName, room.roomId), approval);
    return approval;
  }
}

