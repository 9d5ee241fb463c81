import { randomBytes } from 'node:crypto';
import { channel, type Channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import {
  BRIDGE_EVENT_CHANNEL_PREFIX,
  CORE_EVENTS,
  type BridgeEventMap,
  type BridgeEventName,
  type BridgeEvents,
  type CoreEventMap,
  type CoreEventName,
  type EventInput,
  type PluginEventName,
} from '@botbridge/sdk';
import { BridgeError } from '../errors.js';
import type { Counters } from '../metrics/counters.js';
import { FACT_COUNTERS, type CounterFeed, type CounterFeeds } from './fact-counters.js';

/** An event as a publisher builds it; the bus adds the bridge id and stamps `at` unless given. */
export type EventPayload<K extends BridgeEventName> = EventInput<K>;

/** node:diagnostics_channel keeps channels by name; this caches the lookups (plugin events included). */
const channels = new Map<string, Channel>();
function channelOf(name: string): Channel {
  let found = channels.get(name);
  if (found === undefined) {
    found = channel(BRIDGE_EVENT_CHANNEL_PREFIX + name);
    channels.set(name, found);
  }
  return found;
}
for (const name of Object.keys(CORE_EVENTS)) channelOf(name);

/** Epoch milliseconds with sub-millisecond precision (for stage durations computed from events). */
export function eventTime(): number {
  return performance.timeOrigin + performance.now();
}

const feeds = FACT_COUNTERS as Readonly<Record<string, ((event: unknown) => CounterFeeds) | undefined>>;

/**
 * One bridge's publisher of facts: the single place a fact is counted and delivered. With nobody
 * subscribed, `publish` costs the payload literal, the counter increment and one property read;
 * `bridge` and `at` are added only when delivering. Publishers of costly payloads check
 * `active(name)` first (those facts feed no counter).
 */
export class EventBus {
  readonly id = randomBytes(4).toString('hex');

  constructor(private readonly counters?: Counters) {}

  active(name: BridgeEventName): boolean {
    return channelOf(name).hasSubscribers;
  }

  publish<K extends CoreEventName>(name: K, payload: EventInput<K>): void {
    this.count(name, payload);
    const target = channelOf(name);
    if (target.hasSubscribers) target.publish({ bridge: this.id, at: eventTime(), ...payload });
  }

  /**
   * `publish` for a publisher that checked `active(name)` and built the whole event itself
   * (`bridge: bus.id` and `at` first, as `publish` would deliver it): no copy of the payload.
   * For events built per reply while someone listens (`reply:sent`, the chat log's source).
   */
  publishBuilt<K extends CoreEventName>(name: K, event: CoreEventMap[K]): void {
    this.count(name, event);
    const target = channelOf(name);
    if (target.hasSubscribers) target.publish(event);
  }

  private count(name: CoreEventName, payload: unknown): void {
    const feed = feeds[name];
    if (feed === undefined || this.counters === undefined) return;
    // Indexed, not destructured: array destructuring goes through the iterator protocol and
    // cost ~10x the increment itself here (bench/micro/event-guards.ts).
    const counted = feed(payload);
    if (typeof counted[0] === 'string') {
      const one = counted as CounterFeed;
      this.counters.inc(one[0], one[1], one[2]);
    } else {
      for (const one of counted as readonly CounterFeed[]) this.counters.inc(one[0], one[1], one[2]);
    }
  }

  /**
   * A subscriber scope that only sees this bridge's events and can be undone at once. A throwing
   * handler goes to `onError`: diagnostics_channel would rethrow it as an uncaught exception.
   */
  scope(onError?: (error: unknown, name: BridgeEventName) => void): ScopedEvents {
    return new ScopedEvents(this.id, onError);
  }
}

const coreEvents: ReadonlySet<string> = new Set(Object.keys(CORE_EVENTS));

/** Subscriptions limited to one bridge, all undone by `dispose()` (a plugin's teardown). */
export class ScopedEvents implements BridgeEvents {
  private readonly undo = new Set<() => void>();
  /** Disposed: a later subscription would never be undone, so it is not made. */
  private closed = false;

  constructor(
    private readonly bridgeId: string,
    private readonly onError?: (error: unknown, name: BridgeEventName) => void,
  ) {}

  active(name: BridgeEventName): boolean {
    return channelOf(name).hasSubscribers;
  }

  /** Plugins may publish their own event kinds only: a forged core event would mislead every consumer. */
  publish<K extends PluginEventName>(name: K, payload: EventInput<K>): void {
    if (coreEvents.has(name)) throw new BridgeError('BRIDGE_ERR_EVENT_NOT_PUBLISHABLE', { name });
    const target = channelOf(name);
    if (target.hasSubscribers) target.publish({ bridge: this.bridgeId, at: eventTime(), ...payload });
  }

  subscribe<K extends BridgeEventName>(name: K, handler: (event: BridgeEventMap[K]) => void): () => void {
    if (this.closed) return () => undefined;
    const target = channelOf(name);
    const onError = this.onError;
    const listener = (message: unknown) => {
      const event = message as BridgeEventMap[K];
      if (event.bridge !== this.bridgeId) return;
      if (onError === undefined) return handler(event);
      try {
        handler(event);
      } catch (error) {
        onError(error, name);
      }
    };
    target.subscribe(listener);
    const unsubscribe = () => {
      if (!this.undo.delete(unsubscribe)) return;
      target.unsubscribe(listener);
    };
    this.undo.add(unsubscribe);
    return unsubscribe;
  }

  dispose(): void {
    this.closed = true;
    for (const unsubscribe of [...this.undo]) unsubscribe();
  }
}
