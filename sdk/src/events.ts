/**
 * Live events of the bridge, published on `node:diagnostics_channel` channels named
 * `botbridge:<event>` (BRIDGE_EVENT_CHANNEL_PREFIX + name). Publishing is skipped when nobody
 * subscribes, so the hot path pays nothing for them. Plugins subscribe through
 * `ctx.events.subscribe(name, handler)` (disposed with the plugin); other code may use
 * diagnostics_channel directly. `at` is epoch milliseconds with sub-millisecond precision
 * (performance.timeOrigin + performance.now()), so stage durations can be computed from events.
 * Channels are process-wide; `bridge` tells which bridge of the process published an event
 * (`ctx.events` only delivers its own bridge's events).
 */

import type { SendRejectReason, SendStatus } from './types.js';

export const BRIDGE_EVENT_CHANNEL_PREFIX = 'botbridge:';

export type MessageOutcome = 'replied' | 'no-reply' | 'not-approved' | 'timeout' | 'error';

export interface BridgeEventMap {
  /** A TCP connection was accepted. */
  'connection:open': { readonly bridge: string; readonly connectionId: string; readonly remoteAddress: string; readonly remotePort: number; readonly at: number };
  /** A handshake was decided. `result` is approved, pending, registered, a refused status, invalid or refused_by_plugin. */
  'connection:handshake': {
    readonly bridge: string;
    readonly connectionId: string;
    readonly botName: string;
    readonly deviceId: string;
    readonly version: string;
    readonly result: string;
    readonly at: number;
  };
  /** A connection closed (reason: an error code, `client-closed`, ...). botName is null before a handshake. */
  'connection:close': {
    readonly bridge: string;
    readonly connectionId: string;
    readonly botName: string | null;
    readonly deviceId: string | null;
    readonly reason: string;
    readonly at: number;
  };
  /** A chat line passed admission and was queued. */
  'message:admitted': {
    readonly bridge: string;
    readonly traceId: string;
    readonly botName: string;
    readonly deviceId: string;
    readonly room: string;
    readonly channelId: string | null;
    readonly sender: string;
    readonly text: string;
    readonly at: number;
  };
  /** A chat line was refused before the queue (`duplicate`, `legacy-twin`, `text_too_long`, `empty_text`). */
  'message:dropped': {
    readonly bridge: string;
    readonly botName: string;
    readonly deviceId: string;
    readonly room: string;
    readonly reason: string;
    readonly at: number;
  };
  /**
   * The dispatcher started the message after `waitMs` in the queue: `queueWaitMs` behind earlier
   * messages of its room (room order, per-room limit), then `slotWaitMs` for a global or per-bot
   * slot. The split is measured only while someone listens to this event; a listener that
   * subscribed while the message was queued sees it all as queue wait.
   */
  'message:started': {
    readonly bridge: string;
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    readonly waitMs: number;
    readonly queueWaitMs: number;
    readonly slotWaitMs: number;
    readonly at: number;
  };
  /** The message's job ended. */
  'message:finished': {
    readonly bridge: string;
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    readonly outcome: MessageOutcome;
    readonly durationMs: number;
    readonly at: number;
  };
  /** One plugin handler ran (onReceive, onMessage, beforeReply, ...). */
  'plugin:handler': {
    readonly bridge: string;
    readonly plugin: string;
    readonly hook: string;
    readonly traceId: string | null;
    readonly durationMs: number;
    readonly outcome: 'ok' | 'error' | 'timeout';
    readonly at: number;
  };
  /** A plugin handler threw or missed its deadline (already isolated). */
  'plugin:error': {
    readonly bridge: string;
    readonly plugin: string;
    readonly hook: string;
    readonly code: string;
    readonly message: string;
    readonly traceId: string | null;
    readonly at: number;
  };
  /** A reply passed beforeReply and waits for its turn in the room's order. */
  'reply:queued': { readonly bridge: string; readonly traceId: string; readonly botName: string; readonly room: string; readonly index: number; readonly at: number };
  /** A reply was written to a client (or could not be); `sendMs` is the time the write took (encoding, socket, onReplySent). */
  'reply:sent': {
    readonly bridge: string;
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    readonly deviceId: string | null;
    readonly index: number;
    /** `written`, or `rejected` (`reason`: `no_client`, `device_not_approved`); later `queued` (outbox). */
    readonly status: SendStatus;
    readonly reason: SendRejectReason | null;
    /** status === 'written' (kept for existing subscribers). */
    readonly ok: boolean;
    readonly error: string | null;
    readonly kind: 'text' | 'media';
    readonly text: string;
    readonly sendMs: number;
    readonly at: number;
  };
  /** A ping round trip completed. */
  ping: { readonly bridge: string; readonly botName: string; readonly deviceId: string; readonly rttMs: number; readonly at: number };
  /**
   * Published by a plugin (the profiler): where one message's time went, from admission to its
   * last reply. The stages partition `totalMs`: each instant is counted once, for the innermost
   * stage running then (a beforeReply inside an onMessage handler counts as beforeReply).
   */
  'profile:message': {
    readonly bridge: string;
    readonly traceId: string;
    readonly botName: string;
    readonly room: string;
    /** The command word (`# echo`), or null for a line that is no command. */
    readonly command: string | null;
    readonly outcome: MessageOutcome;
    readonly totalMs: number;
    readonly stages: readonly ProfileStage[];
    /** At or above the profiler's slow-message threshold. */
    readonly slow: boolean;
    readonly at: number;
  };
}

/** One stage of a message profile ('profile:message'). */
export interface ProfileStage {
  /**
   * queue (behind earlier messages of the room), concurrency (waiting for a slot), core (room
   * approval, hook plumbing), onReceive, onMessage, beforeReply (per plugin), hold (reply waiting
   * for earlier messages of the room and the reply gap), send, other (not covered by any event).
   */
  readonly stage: 'queue' | 'concurrency' | 'core' | 'onReceive' | 'onMessage' | 'beforeReply' | 'hold' | 'send' | 'other';
  /** The plugin for onMessage and beforeReply, else null. */
  readonly plugin: string | null;
  readonly ms: number;
}

export type BridgeEventName = keyof BridgeEventMap;

export const BRIDGE_EVENT_NAMES: readonly BridgeEventName[] = [
  'connection:open',
  'connection:handshake',
  'connection:close',
  'message:admitted',
  'message:dropped',
  'message:started',
  'message:finished',
  'plugin:handler',
  'plugin:error',
  'reply:queued',
  'reply:sent',
  'ping',
  'profile:message',
];

/** Events plugins may publish (`ctx.events.publish`); the others are the core's alone. */
export type PluginEventName = 'profile:message';
export const PLUGIN_EVENT_NAMES: readonly PluginEventName[] = ['profile:message'];

/** Subscription to the live event stream; every subscription is undone when its plugin stops. */
export interface BridgeEvents {
  subscribe<K extends BridgeEventName>(name: K, handler: (event: BridgeEventMap[K]) => void): () => void;
  /** Whether anyone listens to `name` (build an event only then: publishing to nobody is free). */
  active(name: BridgeEventName): boolean;
  /** Publishes a plugin event on this bridge's stream (`bridge` is added). */
  publish<K extends PluginEventName>(name: K, payload: Omit<BridgeEventMap[K], 'bridge'>): void;
}
