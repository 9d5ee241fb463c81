import type {
  ClientInfo,
  HandlerResult,
  HandshakeVerdict,
  MessageContext,
  OutgoingReply,
  PingMonitoring,
  ReceivedMessage,
  SendRejectReason,
  SendStatus,
  SentReply,
} from './types.js';

/**
 * The extension table: every hook and every event of the bridge, in one place. A plugin reaches
 * all of them with `ctx.on(name, handler)`, which returns a disposer.
 *
 * - A **hook** is a step the core waits for: its class says how handlers combine (tapable README,
 *   "Hook classes"): `bail` (the first handler returning a value wins), `waterfall` (each handler
 *   may rewrite the value), `series` (ordered steps, each awaited), `parallel` (observers the core
 *   waits for together). Handlers get the hook deadline and their errors are isolated.
 * - An **event** is a fact the core publishes once (`BridgeEventMap`); the counters, Prometheus,
 *   the debug channel, the profiler and plugins are its subscribers. Handlers are synchronous
 *   notifications; nothing waits for them.
 *
 * Adding a hook is one row in `BRIDGE_HOOKS` plus its call site; adding an event is one member of
 * `CoreEventMap`, one row in `CORE_EVENTS`, plus its publish site (and, if it is counted, its
 * feed in the core's `FACT_COUNTERS`). A plugin declares its own events by augmenting
 * `BridgeEventMap` in its own package, never here.
 */

export type HookClass = 'bail' | 'waterfall' | 'series' | 'parallel';
export type HookPhase = 'connection' | 'message' | 'lifecycle';

/** One row of the hook table; `handler` only carries the handler's type (its value is unused). */
export interface HookSpec<C extends HookClass = HookClass, H = unknown> {
  readonly class: C;
  readonly phase: HookPhase;
  /** Argument names (tapable wants them). */
  readonly args: readonly string[];
  readonly doc: string;
  readonly handler?: H;
}

/** Declares a hook row with its handler type: `hook<(arg: A) => R>()('bail', ...)`. */
function hook<H extends (...args: never[]) => unknown>() {
  return <C extends HookClass>(cls: C, phase: HookPhase, args: readonly string[], doc: string): HookSpec<C, H> =>
    Object.freeze({ class: cls, phase, args: Object.freeze([...args]), doc });
}

/** Every hook, grouped by phase; a handler may return a promise of its result. */
export const BRIDGE_HOOKS = Object.freeze({
  // --- connection phase ---
  onHandshake: hook<(client: ClientInfo) => HandshakeVerdict | void>()(
    'bail', 'connection', ['client'], 'The handshake passed the core checks; the first handler returning a verdict refuses the client.'),

  // --- message phase ---
  onReceive: hook<(event: ReceivedMessage) => void>()(
    'parallel', 'message', ['event'], 'Every admitted message, approved or not (observers such as the chat log); the job waits for them.'),
  onMessage: hook<(ctx: MessageContext) => HandlerResult>()(
    'bail', 'message', ['ctx'], 'An approved message; plugins run in config order and the first result (reply, replies, noReply()) ends the chain.'),
  beforeReply: hook<(out: OutgoingReply) => OutgoingReply | null | void>()(
    'waterfall', 'message', ['out'], 'Every outgoing reply in plugin order: return a rewrite, null to drop it, or nothing to keep it.'),

  // --- lifecycle ---
  onStart: hook<() => void>()(
    'series', 'lifecycle', [], 'After every plugin setup, before the listener accepts connections.'),
  onClose: hook<() => void>()(
    'series', 'lifecycle', [], 'The listener stopped and in-flight work drained, before plugins are torn down.'),
});

export type BridgeHookTable = typeof BRIDGE_HOOKS;
export type HookName = keyof BridgeHookTable;
/** The handler signature of a hook (its result may also be a promise). */
export type HookSignature<K extends HookName> = NonNullable<BridgeHookTable[K]['handler']>;
export type HookArgs<K extends HookName> = Parameters<HookSignature<K>>;
export type HookResult<K extends HookName> = ReturnType<HookSignature<K>>;
export type HookHandler<K extends HookName> = (...args: HookArgs<K>) => HookResult<K> | Promise<HookResult<K>>;

// ----------------------------------------------------------------------------------------------
// Events
// ----------------------------------------------------------------------------------------------

/**
 * Events are published on `node:diagnostics_channel` channels named `botbridge:<event>`
 * (BRIDGE_EVENT_CHANNEL_PREFIX + name). `bridge` tells which bridge of the process published it
 * (`ctx.on` and `ctx.events` deliver their own bridge's events only). `at` is epoch milliseconds
 * with sub-millisecond precision (performance.timeOrigin + performance.now()), stamped when the
 * event is delivered, so stage durations can be computed from events.
 */
export const BRIDGE_EVENT_CHANNEL_PREFIX = 'botbridge:';

export type MessageOutcome = 'replied' | 'no-reply' | 'not-approved' | 'timeout' | 'error';

interface Stamp {
  readonly bridge: string;
  readonly at: number;
}

/** The core's events. Closed: plugins add theirs to `BridgeEventMap` instead. */
export interface CoreEventMap {
  // --- connection ---
  /** A TCP connection was accepted, before its handshake. */
  'connection:open': Stamp & { readonly connectionId: string; readonly remoteAddress: string; readonly remotePort: number; readonly connectedAt: number };
  /** A connection was refused at accept by a cap (`refused_cap`, `refused_handshake_cap`). */
  'connection:refused': Stamp & { readonly remoteAddress: string; readonly reason: 'refused_cap' | 'refused_handshake_cap' | 'refused_address_cap' };
  /** A handshake was decided: approved, pending, registered, a refused status, invalid or refused_by_plugin. */
  'connection:handshake': Stamp & {
    readonly connectionId: string;
    readonly botName: string;
    readonly deviceId: string;
    readonly version: string;
    readonly result: string;
  };
  /** A connection closed (reason: an error code, `client-closed`, ...); `client` is null before a handshake. */
  'connection:close': Stamp & {
    readonly connectionId: string;
    readonly botName: string | null;
    readonly deviceId: string | null;
    readonly reason: string;
    readonly client: ClientInfo | null;
  };
  /** A ping round trip completed, with the phone's monitoring block. */
  ping: Stamp & {
    readonly botName: string;
    readonly deviceId: string;
    readonly rttMs: number;
    readonly serverTimestamp: number;
    readonly receivedAt: number;
    readonly remoteAddress: string;
    readonly monitoring: PingMonitoring;
  };

  // --- message ---
  /** A chat line passed admission and was queued. */
  'message:admitted': Stamp & {
    readonly traceId: string;
    readonly botName: string;
    readonly deviceId: string;
    readonly room: string;
    readonly channelId: string | null;
    readonly sender: string;
    readonly text: string;
  };
  /** A sandbox line (debug channel, `Bridge.inject`) entered admission as if its device had sent it. */
  'message:injected': Stamp & { readonly botName: string; readonly deviceId: string; readonly room: string };
  /** A chat line was refused before the queue (`duplicate`, `legacy-twin`, `text_too_long`, `empty_text`). */
  'message:dropped': Stamp & { readonly botName: string; readonly deviceId: string; readonly room: string; readonly reason: string };
  /**
   * The dispatcher started the message after `waitMs` in the queue: `queueWaitMs` behind earlier
   * messages of its room (room order, per-room limit), then `slotWaitMs` for a global or per-bot
   * slot. Built only while someone listens; a listener that subscribed while the message was
   * queued sees it all as queue wait.
   */
  'message:started': Stamp & {
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    readonly waitMs: number;
    readonly queueWaitMs: number;
    readonly slotWaitMs: number;
  };
  /** The job decided whether the message reaches onMessage (device and room approval). */
  'message:routed': Stamp & {
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    readonly result: 'dispatched' | 'room_not_approved' | 'device_not_approved';
  };
  /** The message's job ended (built only while someone listens: it needs the start time). */
  'message:finished': Stamp & {
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    readonly outcome: MessageOutcome;
    readonly durationMs: number;
  };
  /** Message jobs that did not end normally (`timed_out`, `failed`, `abandoned_at_shutdown`). */
  'message:failed': Stamp & { readonly result: 'timed_out' | 'failed' | 'abandoned_at_shutdown' | 'kept_for_replay'; readonly count: number };
  /** The queue paused reads (full) or resumed them (drained). */
  'queue:saturation': Stamp & { readonly transition: 'paused' | 'resumed'; readonly queued: number };

  // --- replies ---
  /** A reply passed beforeReply and waits for its turn in the room's order. */
  'reply:queued': Stamp & { readonly traceId: string; readonly botName: string; readonly room: string; readonly index: number };
  /** A reply was written to a client (or could not be); `sendMs` is the time the write took. */
  'reply:sent': Stamp & {
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    readonly deviceId: string | null;
    readonly index: number;
    /** `written`, or `rejected` (`reason`: `no_client`, `device_not_approved`); `queued` when the outbox kept it. */
    readonly status: SendStatus;
    readonly reason: SendRejectReason | null;
    /** status === 'written' (kept for existing subscribers). */
    readonly ok: boolean;
    readonly error: string | null;
    readonly kind: 'text' | 'media';
    readonly text: string;
    readonly sendMs: number;
    /** The reply as beforeReply left it, with its outcome (what the chat log records). */
    readonly sent: SentReply;
  };
  /**
   * The result of every reply and proactive send, once (`SendResult`): written, queued (outbox),
   * expired, dropped by a beforeReply tap (`plugin`), or rejected (`reason`). Counted in
   * `replies{status}` and `replies_rejected{reason}`.
   */
  'reply:result': Stamp & {
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    readonly status: SendStatus;
    readonly reason: SendRejectReason | null;
    readonly plugin: string | null;
  };

  /**
   * The send governor decided a proactive send: `sent` after `delayMs` of pacing (handed to the
   * device, or to the outbox when no device was live: `deviceId` null), or `rejected`
   * (`reason`: `queue_full`, `daily_cap`). Feeds `botbridge_governor_delay_seconds` and
   * `governor_rejections{reason}`.
   */
  'reply:governed': Stamp & {
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    readonly deviceId: string | null;
    readonly outcome: 'sent' | 'rejected';
    readonly reason: 'queue_full' | 'daily_cap' | null;
    readonly delayMs: number;
  };

  // --- plugins ---
  /** One plugin handler ran (onReceive, onMessage, beforeReply, ...); built only while someone listens. */
  'plugin:handler': Stamp & {
    readonly plugin: string;
    readonly hook: string;
    readonly traceId: string | null;
    readonly durationMs: number;
    readonly outcome: 'ok' | 'error' | 'timeout';
  };
  /** A plugin handler threw or missed its deadline (already isolated and logged). */
  'plugin:error': Stamp & {
    readonly plugin: string;
    readonly hook: string;
    readonly code: 'BRIDGE_ERR_PLUGIN_HOOK' | 'BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT';
    readonly message: string;
    readonly traceId: string | null;
  };

  // --- lifecycle ---
  /** `close()` began: reading stopped on every connection; the drain ends within `graceMs + 2 × flushMs`. */
  'bridge:closing': Stamp & { readonly graceMs: number; readonly flushMs: number };

  // --- store ---
  /** The store's health changed (`degraded`, `healthy`). */
  'store:health': Stamp & { readonly state: 'healthy' | 'degraded'; readonly reason: string | null };
  /** A store operation failed (`register_room`, `register_device`, a batch table, `retention_<table>`). */
  'store:error': Stamp & { readonly operation: string };
  /** Rows dropped because a write buffer was full or a batch failed, by table. */
  'store:write-dropped': Stamp & { readonly table: string; readonly rows: number };
  // --- journal of admitted messages ---
  /** One group commit of the journal: rows of admitted messages and done marks, in one transaction. */
  'journal:commit': Stamp & { readonly admitted: number; readonly done: number };
  /** A journal commit failed (it is retried with the same entries). */
  'journal:error': Stamp & { readonly reason: string };
  /** Journal entries given up: the buffer was full while the store was down, or the store was gone at close. */
  'journal:dropped': Stamp & { readonly reason: 'buffer_full' | 'close'; readonly entries: number };
  /** Journal rows at start: replayed through the pipeline, expired (too old), or not replayed (no phone); adopted from a dead cluster node, and of those already done (the dead node's done notice: marked done, not replayed). */
  'journal:replay': Stamp & { readonly result: 'replayed' | 'expired' | 'not_replayed' | 'adopted' | 'already_done' | 'restored'; readonly rows: number };
  /** A store writer's buffer filled (reading from phones pauses: the store is behind) or drained below its low mark. */
  'store:write-saturation': Stamp & { readonly transition: 'paused' | 'resumed'; readonly buffered: { readonly chatLog: number; readonly ping: number; readonly system: number } };
  /** Rows a batch writer wrote, by table. */
  'store:rows-written': Stamp & { readonly table: string; readonly rows: number };
  /** Rows the store refused one by one after a failed batch (also dropped), by table. */
  'store:rows-rejected': Stamp & { readonly table: string; readonly rows: number };
  /** Rows the retention sweep deleted, by table. */
  'store:retention-deleted': Stamp & { readonly table: string; readonly rows: number };
}

/**
 * Every event: the core's and those plugins declare by module augmentation:
 * `declare module '@botbridge/sdk' { interface BridgeEventMap { 'my:event': { bridge: string; at: number; ... } } }`.
 */
export interface BridgeEventMap extends CoreEventMap {}

export type CoreEventName = keyof CoreEventMap;
export type BridgeEventName = keyof BridgeEventMap;
/** Events a plugin may publish: any declared name that is not the core's. */
export type PluginEventName = Exclude<BridgeEventName, CoreEventName>;
/** An event as its publisher builds it: the bus adds `bridge` and stamps `at` unless given. */
export type EventInput<K extends BridgeEventName> = Omit<BridgeEventMap[K], 'bridge' | 'at'> & { readonly at?: number };

/** The core's events by phase (the runtime side of CoreEventMap: one channel each). */
export const CORE_EVENTS = Object.freeze({
  'connection:open': 'connection',
  'connection:refused': 'connection',
  'connection:handshake': 'connection',
  'connection:close': 'connection',
  ping: 'connection',
  'message:admitted': 'message',
  'message:injected': 'message',
  'message:dropped': 'message',
  'message:started': 'message',
  'message:routed': 'message',
  'message:finished': 'message',
  'message:failed': 'message',
  'queue:saturation': 'message',
  'reply:queued': 'reply',
  'reply:sent': 'reply',
  'reply:result': 'reply',
  'reply:governed': 'reply',
  'plugin:handler': 'plugin',
  'plugin:error': 'plugin',
  'bridge:closing': 'lifecycle',
  'store:health': 'store',
  'store:error': 'store',
  'store:write-dropped': 'store',
  'store:write-saturation': 'store',
  'journal:commit': 'journal',
  'journal:error': 'journal',
  'journal:dropped': 'journal',
  'journal:replay': 'journal',
  'store:rows-written': 'store',
  'store:rows-rejected': 'store',
  'store:retention-deleted': 'store',
} as const satisfies { readonly [K in CoreEventName]: string });

export const CORE_EVENT_NAMES = Object.freeze(Object.keys(CORE_EVENTS) as CoreEventName[]);

/** Subscription to the live event stream; every subscription is undone when its plugin stops. */
export interface BridgeEvents {
  subscribe<K extends BridgeEventName>(name: K, handler: (event: BridgeEventMap[K]) => void): () => void;
  /** Whether anyone listens to `name` (build a costly event only then). */
  active(name: BridgeEventName): boolean;
  /** Publishes a plugin event on this bridge's stream; a core event name is refused. */
  publish<K extends PluginEventName>(name: K, payload: EventInput<K>): void;
}

/** What `ctx.on` accepts: a hook or an event name. */
export type ExtensionName = HookName | BridgeEventName;
export type ExtensionHandler<K extends ExtensionName> = K extends HookName
  ? HookHandler<K>
  : K extends BridgeEventName
    ? (event: BridgeEventMap[K]) => void
    : never;
