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
}

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
}

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
  /** Aborted when the processing timeout passes or the bridge shuts down. */
  readonly signal: AbortSignal;
  /** The handling plugin's logger with botName, deviceId, room and traceId bound. */
  readonly log: Logger;
  /**
   * Sends replies now (they still pass `beforeReply` and wait for earlier messages of the room).
   * Several calls keep their order. Throws `BRIDGE_ERR_REPLY_AFTER_DONE` after the job ended.
   */
  reply(reply: Reply | readonly Reply[] | string): Promise<void>;
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

export interface SendResult {
  readonly ok: boolean;
  readonly error?: string;
}

/** One chat-log row (kb_chat_logs): a received chat line or a reply of ours. */
export interface ChatLogEntry {
  readonly botName: string;
  readonly channelId: string | null;
  readonly roomName: string;
  readonly sender: string;
  readonly userHash: string | null;
  readonly text: string;
  readonly logId: string | null;
  readonly clientTimestamp: string | null;
  readonly isMention: boolean;
  readonly isGroupChat: boolean;
  /** The command word when the line is a command (e.g. `# echo`), else null. */
  readonly directive: string | null;
  readonly messageType: string;
  readonly isMeaningful: boolean;
  readonly isBot: boolean;
  readonly isOurBotResponse: boolean;
  readonly isScheduled: boolean;
}

export interface ReloadResult {
  /** Devices whose approval was re-read. */
  readonly devices: number;
  /** Devices whose approval changed. */
  readonly changed: number;
}

/** The bridge as plugins may steer it. */
export interface BridgeApi {
  /** Connected clients that completed the handshake. */
  clients(): ClientInfo[];
  /** Re-read device and room approvals from the store now. */
  reloadApprovals(): Promise<ReloadResult>;
  /** Proactive send to a room; passes `beforeReply` like any reply. */
  send(target: ReplyTarget, reply: Reply | string): Promise<SendResult>;
  /** Append a chat-log row (buffered, written in batches; never blocks the pipeline). */
  appendChatLog(entry: ChatLogEntry): void;
}

export type Disposer = () => void | Promise<void>;

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
  /** Registers a disposer run when the plugin stops. */
  effect(dispose: Disposer): void;
  setInterval(fn: () => void, ms: number): Disposer;
  setTimeout(fn: () => void, ms: number): Disposer;
}
