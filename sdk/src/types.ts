import type { BotConfigProvider } from './bot-config.js';
import type { BridgeEvents, ExtensionHandler, ExtensionName, HookHandler } from './hooks.js';
import type { PluginMetrics } from './metrics.js';

/**
 * Public types of botbridge: what a plugin sees. Plugins see messages, rooms, clients and
 * replies, never sockets. Ids that KakaoTalk issues (`channelId`, `logId`) are decimal strings
 * that can exceed 2^53 and stay strings end to end.
 */

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'revoked' | 'blocked';

/** Minimal structured logger (pino-compatible subset) handed to plugins. */
export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** One chat line forwarded by a bridge script (`analyze` packet), after admission. */
export interface ChatMessage {
  /** Stable message id: `botName/channelId/logId`, or a generated id for lines without logId. */
  readonly id: string;
  /** Follows this message from arrival to its replies in logs and debug events. */
  readonly traceId: string;
  readonly botName: string;
  readonly deviceId: string;
  /** Room name as KakaoTalk shows it; text replies are routed by it on the phone. */
  readonly room: string;
  readonly channelId: string | null;
  readonly logId: string | null;
  readonly text: string;
  readonly sender: string;
  readonly userHash: string | null;
  readonly isGroupChat: boolean;
  readonly isMention: boolean;
  /** The phone's local time, second resolution, as sent (`YYYY-MM-DD HH:mm:ss`). */
  readonly clientTimestamp: string | null;
  /** Server receive time, epoch ms. */
  readonly receivedAt: number;
  /** True when it came through the script's legacy `response()` entry point (no logId). */
  readonly legacy: boolean;
  /**
   * The bridge script version the phone reported in its handshake (`3.2.1`, `3.3.3`), for
   * information only: messages of every protocol version look the same.
   */
  readonly clientVersion?: string;
}

export interface RoomInfo {
  readonly botName: string;
  readonly channelId: string | null;
  readonly name: string;
  readonly status: ApprovalStatus;
}

/** A connected bridge client after its handshake. */
export interface ClientInfo {
  readonly connectionId: string;
  readonly botName: string;
  readonly deviceId: string;
  readonly clientType: string;
  readonly version: string;
  /**
   * The wire protocol the phone speaks (docs/protocol.md), chosen from its first line; absent for
   * sources that never crossed the wire (the sandbox). For display only: the pipeline is the same.
   */
  readonly protocol?: ClientProtocol;
  /** Self-reported by the phone; `remoteAddress` is what the socket saw. */
  readonly deviceIP: string | null;
  readonly deviceInfo: string | null;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt: number;
  readonly approval: ApprovalStatus;
  readonly lastPingAt: number | null;
  readonly rttMs: number | null;
  /** The monitoring block of the last ping answer. */
  readonly monitoring: PingMonitoring | null;
  readonly pendingOutputBytes: number;
  /** Cluster mode: the id of the node holding this connection (absent on a single node). */
  readonly node?: string;
}

/** Bridge script protocol lines: v3.2.x (bare handshake, `analyze`) and v3.3.x ("JSON + raw"). */
export type ClientProtocol = 'v3.2' | 'v3.3';

/** A raw TCP connection before its handshake. */
export interface ConnectionInfo {
  readonly connectionId: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt: number;
}

export interface TextReply {
  readonly kind: 'text';
  readonly text: string;
}

/** Media sent as `MEDIA_URL:` (http(s) URLs or phone paths) or `IMAGE_BASE64:` items. */
export interface MediaReply {
  readonly kind: 'media';
  readonly form: 'url' | 'base64';
  readonly items: readonly string[];
  /** How long the phone waits after handing media to KakaoTalk (clamped by the core). */
  readonly waitMs?: number;
  /** v3.3 phones' `message_type` for the items; default `image`. */
  readonly mediaType?: MediaType;
}

/** Media kinds a v3.3 phone understands. */
export type MediaType = 'image' | 'audio' | 'video' | 'document';

export type Reply = TextReply | MediaReply;

/** A handler's explicit "handled, say nothing": stops later plugins' onMessage. */
export interface NoReply {
  readonly kind: 'none';
}

/** What an onMessage handler may return. `undefined` means "not mine, ask the next plugin". */
export type HandlerResult = Reply | readonly Reply[] | NoReply | string | undefined | void;

export interface ReplyTarget {
  readonly botName: string;
  readonly room: string;
  readonly channelId: string | null;
  /** Preferred device; the core falls back to another live device of the bot. */
  readonly deviceId?: string | null;
}

/** A reply on its way out, as `beforeReply` sees it. */
export interface OutgoingReply {
  readonly reply: Reply;
  readonly target: ReplyTarget;
  /** The message that caused it, or null for a proactive send. */
  readonly message: ChatMessage | null;
  readonly traceId: string;
  /** Position among the replies of one message (0-based). */
  readonly index: number;
}

export interface SentReply extends OutgoingReply {
  readonly ok: boolean;
  /** Why it was not sent (`no-client`, `too-large`, `closed`, ...). */
  readonly error?: string;
  readonly sentAt: number;
}

export interface PingMonitoring {
  readonly totalMemory: number | null;
  readonly memoryUsage: number | null;
  readonly memoryPercent: number | null;
  readonly messageQueueSize: number | null;
  readonly activeRooms: number | null;
}

/** Context of one message inside the dispatcher's limits. */
export interface MessageContext {
  readonly message: ChatMessage;
  readonly room: RoomInfo;
  readonly client: ClientInfo;
  /** Aborted when the processing timeout passes or the bridge shuts down (`abort.signal`). */
  readonly signal: AbortSignal;
  /** The same cancellation without making an AbortSignal (the plugin host races handlers with it). */
  readonly abort: MessageAbort;
  /** The handling plugin's logger with botName, deviceId, room and traceId bound. */
  readonly log: Logger;
  /**
   * Sends replies now (they still pass `beforeReply` and wait for earlier messages of the room).
   * Several calls keep their order. Resolves, one result per reply in order, once each was
   * written or definitively not: at most `pipeline.replyHoldMs` (plus the reply gaps) when an
   * earlier message of the room is still running. Throws `BRIDGE_ERR_REPLY_AFTER_DONE` after the
   * job ended.
   */
  reply(reply: Reply | readonly Reply[] | string): Promise<readonly SendResult[]>;
}

/** Every admitted message (approved or not), as `onReceive` observers see it. */
export interface ReceivedMessage {
  readonly message: ChatMessage;
  readonly room: RoomInfo;
  readonly deviceApproved: boolean;
  readonly roomApproved: boolean;
}

/** Returned by an `onHandshake` handler to refuse a client. */
export interface HandshakeVerdict {
  readonly refuse: true;
  /** Shown to the phone in handshakeComplete.message and logged. */
  readonly reason: string;
}

/**
 * What became of one reply (`ctx.reply`, `ctx.bridge.send`, the admin API's send). `written`:
 * handed to a phone's socket. `queued`: no device of the bot is connected; kept in the store
 * (the outbox) and delivered in the room's order when one is back. Final for the caller: what
 * becomes of it later (delivered, or `expired` past the TTL) is reported as events and metrics,
 * not to the awaiting plugin. `dropped`: a
 * `beforeReply` handler returned null (`plugin` names it; null when the drop was not made by a
 * plugin). `rejected`: refused by the core, see `SendRejectReason`.
 */
export type SendResult =
  | { readonly status: 'written'; readonly traceId: string; readonly deviceId: string }
  | { readonly status: 'queued'; readonly traceId: string }
  | { readonly status: 'expired'; readonly traceId: string }
  | { readonly status: 'dropped'; readonly traceId: string; readonly plugin: string | null }
  | { readonly status: 'rejected'; readonly traceId: string; readonly reason: SendRejectReason };

export type SendStatus = SendResult['status'];

/**
 * - `too_long`: over `replies.maxTextLength` or the line limit (nothing is ever truncated);
 * - `invalid`: a media reply without items, or with an empty item or one containing `|||`;
 * - `no_client`: no live device of the bot, and none to wait for (the bot has no approved device,
 *   the outbox is off, or it could not store the reply); otherwise the reply is `queued`;
 * - `device_not_approved`: the only live devices of the bot are not approved (never queued);
 * - `unknown_room`: reserved (not produced yet);
 * - `cluster_timeout`: cluster mode, the node holding the bot's device did not answer within
 *   `cluster.requestTimeoutMs`; the phone may or may not have it (not queued: no duplicate).
 */
export type SendRejectReason = 'too_long' | 'invalid' | 'no_client' | 'device_not_approved' | 'unknown_room' | 'cluster_timeout';

/**
 * A message job's cancellation (processing timeout, shutdown). `signal` makes an AbortSignal
 * only when read; `race` settles with the work or rejects as soon as the job is aborted.
 */
export interface MessageAbort {
  readonly aborted: boolean;
  readonly reason: unknown;
  readonly signal: AbortSignal;
  race<T>(work: Promise<T>): Promise<T>;
}

/**
 * Tables the core writes in batches for plugins (buffered, bounded, retried; one transaction per
 * batch), keyed by table name, each with the row type the core accepts for it. Empty here: the
 * sdk knows no table. A plugin that writes one declares it by module augmentation, so its row
 * shape lives with the plugin:
 *
 * ```ts
 * declare module '@botbridge/sdk' {
 *   interface BatchedTables { kb_chat_logs: ChatLogEntry }
 * }
 * ```
 *
 * The core implements each table it owns (store schema, migrations, retention); appending to a
 * table the core does not implement throws.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface BatchedTables {}

export interface ReloadResult {
  /** Devices whose approval was re-read. */
  readonly devices: number;
  /** Devices whose approval changed. */
  readonly changed: number;
}

/** The bridge as plugins may steer it. */
export interface BridgeApi {
  /** Connected clients that completed the handshake (cluster mode: this node's only). */
  clients(): ClientInfo[];
  /**
   * Cluster mode: every node's clients, each with its `node` (nodes that do not answer within
   * `cluster.fleetTimeoutMs` are missing). On a single node the same as `clients()`. Optional so
   * that test doubles of this interface need not implement it.
   */
  fleetClients?(): Promise<ClientInfo[]>;
  /** Re-read device and room approvals from the store now. */
  reloadApprovals(): Promise<ReloadResult>;
  /**
   * Proactive send to a room; passes `beforeReply` like any reply and takes its place in the
   * room's reply order (after replies of messages admitted before it). Resolves once written or
   * definitively not.
   */
  send(target: ReplyTarget, reply: Reply | string): Promise<SendResult>;
  /** Queues a row for one of the core's batched tables (see BatchedTables); never blocks the pipeline. */
  appendRow<Table extends keyof BatchedTables>(table: Table, row: BatchedTables[Table]): void;
}

export type Disposer = () => void | Promise<void>;

/**
 * Services plugins provide to each other, by name. Empty here: a providing plugin declares its
 * service by module augmentation (cordis/koishi style), which types `ctx.provide` and `ctx.inject`:
 * `declare module '@botbridge/sdk' { interface BridgeServices { commands: CommandService } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface BridgeServices {}

export type ServiceName = keyof BridgeServices & string;

/** The plugin that injects a service, as its provider sees it. */
export interface ServiceConsumer {
  /** The injecting plugin's name. */
  readonly plugin: string;
  readonly log: Logger;
  /** Runs `dispose` when the injecting plugin stops (at once if it already has). */
  effect(dispose: Disposer): void;
}

/**
 * Builds the view of a service one consumer gets (called once per injecting plugin), so that
 * what a plugin registers through a service is removed when that plugin stops.
 */
export type ServiceFactory<K extends ServiceName> = (consumer: ServiceConsumer) => BridgeServices[K];

/**
 * What a plugin's `setup` receives. Every registration made through it is undone when the plugin
 * stops (taps become inert, timers are cleared, effects are disposed in reverse order).
 * `BotConfig` is the output type of the plugin's `botConfig` schema.
 */
export interface PluginContext<BotConfig = unknown> {
  readonly name: string;
  /** The plugin's logger: category `plugin:<name>`, level from `log.categories`. */
  readonly log: Logger;
  readonly bridge: BridgeApi;
  /** The live event stream (connections, messages, plugin timings, replies, pings). */
  readonly events: BridgeEvents;
  /** Metrics on the bridge's Prometheus registry; removed from it when the plugin stops. */
  readonly metrics: PluginMetrics;
  /**
   * This plugin's per-bot settings for `botName` (its `botConfig` schema, defaults applied),
   * as currently applied by the bridge's per-bot config source. Cheap: call it per message
   * rather than keeping the result, so live edits take effect.
   */
  botConfig(botName: string): BotConfig;
  /**
   * Makes this plugin the bridge's per-bot config source (at most one per bridge; setup only).
   * The handle validates and applies per-bot documents for every plugin and the core.
   */
  provideBotConfig(): BotConfigProvider;
  /**
   * Subscribes to a hook or an event of the extension table (`BRIDGE_HOOKS`, `BridgeEventMap`).
   * The hook's class decides how the handler runs (bail, waterfall, series, parallel: with the
   * hook deadline); event handlers are notifications. A throw or a missed deadline is reported
   * with plugin and hook names and never reaches another plugin. Setup only; the disposer
   * unsubscribes (it also happens when the plugin stops).
   */
  on<K extends ExtensionName>(name: K, handler: ExtensionHandler<K>): Disposer;
  /** Shorthands of `on` for the hooks most plugins use. */
  onHandshake(handler: HookHandler<'onHandshake'>): Disposer;
  onReceive(handler: HookHandler<'onReceive'>): Disposer;
  onMessage(handler: HookHandler<'onMessage'>): Disposer;
  beforeReply(handler: HookHandler<'beforeReply'>): Disposer;
  /**
   * Makes a service available to the plugins set up after this one (setup only); it is withdrawn
   * when this plugin stops. Each injecting plugin gets `factory(consumer)`.
   */
  provide<K extends ServiceName>(name: K, factory: ServiceFactory<K>): void;
  /**
   * A service provided by a plugin listed before this one; throws `BRIDGE_ERR_PLUGIN_SERVICE_MISSING`
   * when none is. Declare it in the plugin's `inject` list so the start fails before setup.
   */
  inject<K extends ServiceName>(name: K): BridgeServices[K];
  /** Registers a disposer run when the plugin stops. */
  effect(dispose: Disposer): void;
  setInterval(fn: () => void, ms: number): Disposer;
  setTimeout(fn: () => void, ms: number): Disposer;
}
