import type { ApprovalStatus, BotConfigResult, ClientInfo, ReloadResult, Reply, ReplyTarget, SendResult } from '@botbridge/sdk';
import type { ApprovalCache, RoomApproval } from '../approval/approval-cache.js';
import type { BotSettings } from '../bots/bot-settings.js';
import type { Bridge, BridgePhase } from '../bridge.js';
import type { CounterName, Counters } from '../metrics/counters.js';
import type { InjectInput, InjectResult } from '../pipeline/message-source.js';
import type { PluginState } from '../plugins/plugin-host.js';
import type { BanEntry, BanKind, BanList } from '../session/ban-list.js';
import type { SessionRegistry } from '../session/session-registry.js';
import type { DeviceRecord, ListFilter, RoomRecord, Store } from '../store/types.js';

/** Read access to the bridge's in-process counters (`name{label}` keys). */
export interface CounterReader {
  get(name: CounterName, label?: string): number;
  /** Sum over every label of a counter. */
  total(name: CounterName): number;
  snapshot(): Record<string, number>;
}

/** `Bridge.stats()`: the bridge's live state in one object. */
export type BridgeStats = ReturnType<Bridge['stats']>;

export interface SetStatusOptions {
  /** Stored with the change (shown by the admin API and the CLI). */
  readonly reason?: string;
  /**
   * Registers a device or room the store does not know yet with this status, instead of
   * reporting it missing (pre-approving before the first contact, as tests do).
   */
  readonly register?: boolean;
}

/** The bridge's own verbs the facade delegates to. */
type AdminBridgeVerbs = Pick<Bridge, 'clients' | 'stats' | 'pluginStates' | 'send' | 'inject' | 'lifecycle'>;

/** The bridge's parts the facade steers; the bridge keeps them private. */
export interface AdminParts {
  readonly bridge: AdminBridgeVerbs;
  readonly registry: SessionRegistry;
  readonly approvals: ApprovalCache;
  readonly store: () => Store;
  readonly counters: Counters;
  readonly botSettings: BotSettings;
  /** Issue 13: the bot port's temporary bans. */
  readonly bans: BanList;
  /** Cluster mode: tells the other nodes an approval changed here (they re-read it from SQL). */
  readonly announceApproval?: (kind: 'device' | 'room', botName: string, id: string) => void;
  /** Cluster mode: every node's clients, each with its node id. */
  readonly fleetClients?: () => Promise<ClientInfo[]>;
  /** Cluster mode: closes a device's connection on the node holding it (false: no node does). */
  readonly disconnectRemote?: (botName: string, deviceId: string) => Promise<boolean>;
  /** Cluster mode: this node's NATS link for /ready and the dashboard. */
  readonly clusterStatus?: () => { node: string; nats: string; state: 'ok' | 'degraded'; nodes: number } | null;
}

/**
 * The one surface operators' tools steer a running bridge through: the admin HTTP routes, the
 * debug channel, the test kit. It names each action (list, disconnect, approve, send, inject,
 * stats) so the bridge's parts (session registry, approval cache, store, counters, per-bot
 * settings) stay private to it. Approval changes go through the approval cache, so they act on
 * live connections at once; a denied, revoked or blocked device is disconnected.
 */
export class BridgeAdmin {
  /** Read-only view of the in-process counters (the admin API's stats, the debug channel, tests). */
  readonly counters: CounterReader;

  constructor(private readonly parts: AdminParts) {
    this.counters = parts.counters;
  }

  /** Every node's clients in cluster mode (each with its `node`), else this node's. */
  fleetClients(): Promise<ClientInfo[]> {
    return this.parts.fleetClients?.() ?? Promise.resolve(this.clients());
  }

  /**
   * Closes a device's connection wherever it is: here, else (cluster mode) on the node holding
   * it. False when no node holds it.
   */
  async disconnectAnywhere(botName: string, deviceId: string): Promise<boolean> {
    if (this.disconnect(botName, deviceId)) return true;
    return (await this.parts.disconnectRemote?.(botName, deviceId)) ?? false;
  }

  /** Cluster mode: node id, NATS state, live nodes; null on a single node. */
  clusterStatus(): { node: string; nats: string; state: 'ok' | 'degraded'; nodes: number } | null {
    return this.parts.clusterStatus?.() ?? null;
  }

  clients(): ClientInfo[] {
    return this.parts.bridge.clients();
  }

  isConnected(botName: string, deviceId: string): boolean {
    return this.parts.registry.get(botName, deviceId) !== undefined;
  }

  /** Closes a live client's connection (`BRIDGE_ERR_ADMIN_DISCONNECT`); false when it is not connected. */
  disconnect(botName: string, deviceId: string): boolean {
    const session = this.parts.registry.get(botName, deviceId);
    if (!session) return false;
    session.close('BRIDGE_ERR_ADMIN_DISCONNECT');
    return true;
  }

  stats(): BridgeStats {
    return this.parts.bridge.stats();
  }

  /** Live temporary bans of the bot port (docs/security.md). */
  bans(): BanEntry[] {
    return this.parts.bans.list(Date.now());
  }

  /** Lifts a ban (and forgets its strikes); false when there was none. `subject`: `bot/device` or an address. */
  liftBan(kind: BanKind, subject: string): boolean {
    return this.parts.bans.lift(kind, subject);
  }

  /** The bridge's lifecycle phase, cheaply (the admin server answers 503 while it is closing). */
  get phase(): BridgePhase {
    return this.parts.bridge.lifecycle;
  }

  pluginStates(): PluginState[] {
    return this.parts.bridge.pluginStates();
  }

  /** Proactive send to a room (`Bridge.send`): passes `beforeReply` like any reply. */
  send(target: ReplyTarget, reply: Reply | string): Promise<SendResult> {
    return this.parts.bridge.send(target, reply);
  }

  /** A synthetic chat line through the whole pipeline (`Bridge.inject`, the sandbox). */
  inject(input: InjectInput): InjectResult {
    return this.parts.bridge.inject(input);
  }

  listDevices(filter: ListFilter = {}): Promise<DeviceRecord[]> {
    return this.parts.store().listDevices(filter);
  }

  listRooms(filter: ListFilter = {}): Promise<RoomRecord[]> {
    return this.parts.store().listRooms(filter);
  }

  device(botName: string, deviceId: string): Promise<DeviceRecord | undefined> {
    return this.parts.store().getDevice(botName, deviceId);
  }

  room(botName: string, roomId: string): Promise<RoomRecord | undefined> {
    return this.parts.store().getRoom(botName, roomId);
  }

  /** A room's approval as the pipeline sees it now (the cache; `pending` once it is stale). */
  roomApproval(botName: string, roomId: string): RoomApproval | undefined {
    return this.parts.approvals.roomApproval(botName, roomId);
  }

  /** Sets a device's approval; false when the device is unknown (and `register` is not set). */
  async setDeviceStatus(botName: string, deviceId: string, status: ApprovalStatus, options: SetStatusOptions = {}): Promise<boolean> {
    const { approvals, store } = this.parts;
    if (await approvals.setDeviceStatus(botName, deviceId, status, options.reason)) {
      this.parts.announceApproval?.('device', botName, deviceId);
      return true;
    }
    if (!options.register) return false;
    await store().registerDevice({ botName, deviceId, ipAddress: null, clientType: null, clientVersion: null, initialStatus: status });
    await approvals.reload();
    this.parts.announceApproval?.('device', botName, deviceId);
    return true;
  }

  /** Sets a room's approval; false when the room is unknown (and `register` is not set). */
  async setRoomStatus(botName: string, roomId: string, status: ApprovalStatus, options: SetStatusOptions = {}): Promise<boolean> {
    const { approvals, store } = this.parts;
    if (await approvals.setRoomStatus(botName, roomId, status, options.reason)) {
      this.parts.announceApproval?.('room', botName, roomId);
      return true;
    }
    if (!options.register) return false;
    await store().registerRoom({ botName, roomId, roomName: roomId, initialStatus: status });
    this.parts.announceApproval?.('room', botName, roomId);
    return true;
  }

  /** Re-reads every device and room approval from the store now. */
  reloadApprovals(): Promise<ReloadResult> {
    return this.parts.approvals.reload();
  }

  /** Applies a per-bot settings document now, as the bot's config source would (validated the same way). */
  applyBotConfig(botName: string, document: unknown): BotConfigResult {
    return this.parts.botSettings.apply(botName, document);
  }

  /** Resolves when the store answers a trivial query (the readiness probe). */
  checkStore(): Promise<void> {
    return this.parts.store().healthCheck();
  }

  /** Counts an admin request refused for its credential (`http_auth_failures{reason}`). */
  countAuthFailure(reason: string): void {
    this.parts.counters.inc('http_auth_failures', reason);
  }
}
