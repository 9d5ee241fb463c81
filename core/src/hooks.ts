import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncHook } from 'tapable';
import type {
  ClientInfo,
  ConnectionInfo,
  HandlerResult,
  HandshakeVerdict,
  MessageContext,
  OutgoingReply,
  PingResult,
  ReceivedMessage,
  SentReply,
} from '@botbridge/sdk';

/** Reported on `onPluginError` whenever a plugin's handler throws or times out. */
export interface PluginErrorEvent {
  readonly plugin: string;
  readonly hook: string;
  readonly code: 'BRIDGE_ERR_PLUGIN_HOOK' | 'BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT';
  readonly message: string;
  readonly traceId?: string;
}

/**
 * Every hook of the core, in one place, grouped by phase. Plugins tap them through their
 * PluginContext (which adds isolation, deadlines and disposal); taps are made at start-up only,
 * never per message, because every tap recompiles the hook.
 *
 * Class choices (tapable README, "Hook classes"):
 * - notifications nobody waits for are SyncHook (cheap, no promise per call);
 * - notifications whose handlers do I/O are AsyncParallelHook (handlers do not wait for each other);
 * - decisions where the first answer wins are AsyncSeriesBailHook;
 * - transforms are AsyncSeriesWaterfallHook;
 * - ordered lifecycle steps are AsyncSeriesHook.
 */
export function createHooks() {
  return Object.freeze({
    // --- connection phase ---
    /** A TCP connection was accepted, before its handshake. Notification. */
    onConnect: new SyncHook<[ConnectionInfo]>(['conn']),
    /** The handshake passed the core's checks; the first tap returning a verdict refuses the client. */
    onHandshake: new AsyncSeriesBailHook<[ClientInfo], HandshakeVerdict | undefined>(['client']),
    /** A handshaken client's connection closed (reason is an error code or `client-closed`). */
    onDisconnect: new SyncHook<[ClientInfo, string]>(['client', 'reason']),

    // --- message phase ---
    /** Every admitted (deduplicated) message, approved or not: observers such as the chat log. */
    onReceive: new AsyncParallelHook<[ReceivedMessage]>(['event']),
    /**
     * An approved message inside the dispatcher's limits. Plugins run in config order; the first
     * one returning a result (a reply, several, or noReply()) ends the chain.
     */
    onMessage: new AsyncSeriesBailHook<[MessageContext], HandlerResult>(['ctx']),
    /** Every outgoing reply passes here in plugin order; a tap may rewrite it or return null to drop it. */
    beforeReply: new AsyncSeriesWaterfallHook<[OutgoingReply | null]>(['out']),
    /** A reply was written to a client's socket (or failed to be). Notification. */
    onReplySent: new SyncHook<[SentReply]>(['sent']),

    // --- monitoring ---
    /** A ping round trip completed: RTT and the client's monitoring block. */
    onPing: new AsyncParallelHook<[PingResult]>(['ping']),
    /** A plugin handler threw or timed out (already isolated and logged). Notification. */
    onPluginError: new SyncHook<[PluginErrorEvent]>(['error']),

    // --- lifecycle ---
    /** After every plugin's setup, before the listener accepts connections. */
    onStart: new AsyncSeriesHook<[]>([]),
    /** The listener stopped and in-flight work drained, before plugins are torn down. */
    onClose: new AsyncSeriesHook<[]>([]),
  });
}

export type BridgeHooks = ReturnType<typeof createHooks>;
export type HookName = keyof BridgeHooks;
