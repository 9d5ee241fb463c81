import { CORE_EVENT_NAMES, type CoreEventName } from '@botbridge/sdk';
import { z } from 'zod';
import { InjectBody } from '../route-schemas.js';

/**
 * The debug channel's messages (docs/admin-api.md, "Debug channel"). Every message is one JSON
 * text frame. The client chooses what it receives with `subscribe`; the server filters, so a
 * filtered-out event never crosses the socket.
 */

/** Periodic queue and throughput figures, computed by the hub (not a bridge event). */
export const QUEUE_STATS = 'queue:stats';
/**
 * Plugin events the channel streams by name (declared by the plugins through BridgeEventMap
 * augmentation; the core knows only the name). The profiler's summary of each message.
 */
export const PLUGIN_STREAM_EVENTS = ['profile:message'] as const;
export type StreamEventName = CoreEventName | (typeof PLUGIN_STREAM_EVENTS)[number] | typeof QUEUE_STATS;
export const STREAM_EVENT_NAMES: readonly StreamEventName[] = [...CORE_EVENT_NAMES, ...PLUGIN_STREAM_EVENTS, QUEUE_STATS];

const streamEvent = z.enum(STREAM_EVENT_NAMES as [StreamEventName, ...StreamEventName[]]);
const criterion = z.string().min(1).max(600).nullable().optional();

export const ClientMessage = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('subscribe'),
    /** Event names to receive; all of them when absent. */
    events: z.array(streamEvent).max(64).optional(),
    bot: criterion,
    device: criterion,
    room: criterion,
  }),
  z.strictObject({
    type: z.literal('inject'),
    /** Echoed in the answer, so a client can match answers to requests. */
    id: z.string().max(100).optional(),
    message: InjectBody,
  }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export type SubscribeMessage = Extract<ClientMessage, { type: 'subscribe' }>;

export type ServerMessage =
  | { readonly type: 'hello'; readonly version: string; readonly events: readonly StreamEventName[] }
  | { readonly type: 'subscribed'; readonly events: readonly StreamEventName[]; readonly bot: string | null; readonly device: string | null; readonly room: string | null }
  | { readonly type: 'event'; readonly name: StreamEventName; readonly traceId: string | null; readonly at: number; readonly data: Record<string, unknown> }
  | { readonly type: 'injected'; readonly id: string | null; readonly traceId: string | null; readonly dropped: string | null }
  | { readonly type: 'dropped'; readonly count: number }
  /** The bridge began closing: the channel closes once the drain is over (at most graceMs + 2 × flushMs). */
  | { readonly type: 'closing'; readonly graceMs: number; readonly flushMs: number }
  | { readonly type: 'error'; readonly id: string | null; readonly code: string; readonly message: string };

export function encode(message: ServerMessage): string {
  return JSON.stringify(message);
}
