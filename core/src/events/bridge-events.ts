import { randomBytes } from 'node:crypto';
import { channel, type Channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { BridgeEventMap, BridgeEventName, BridgeEvents, PluginEventName } from '@botbridge/sdk';
import { BRIDGE_EVENT_CHANNEL_PREFIX, BRIDGE_EVENT_NAMES, PLUGIN_EVENT_NAMES } from '@botbridge/sdk/internal';
import { BridgeError } from '../errors.js';

type Channels = { readonly [K in BridgeEventName]: Channel };
/** An event as a publisher builds it; the bus adds the bridge id. */
export type EventPayload<K extends BridgeEventName> = Omit<BridgeEventMap[K], 'bridge'>;

/** The process-wide channels, one per event name (node:diagnostics_channel keeps them by name). */
const channels: Channels = Object.freeze(
  Object.fromEntries(BRIDGE_EVENT_NAMES.map((name) => [name, channel(BRIDGE_EVENT_CHANNEL_PREFIX + name)])) as Record<
    BridgeEventName,
    Channel
  >,
);

/** Epoch milliseconds with sub-millisecond precision (for stage durations computed from events). */
export function eventTime(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One bridge's side of the event channels. Call sites check `active(name)` before building an
 * event, so with nobody subscribed an event costs one property read and allocates nothing.
 */
export class EventBus {
  readonly id = randomBytes(4).toString('hex');

  active(name: BridgeEventName): boolean {
    return channels[name].hasSubscribers;
  }

  emit<K extends BridgeEventName>(name: K, payload: EventPayload<K>): void {
    channels[name].publish({ bridge: this.id, ...payload });
  }

  /**
   * A subscriber scope that only sees this bridge's events and can be undone at once. A throwing
   * handler goes to `onError`: diagnostics_channel would rethrow it as an uncaught exception.
   */
  scope(onError?: (error: unknown, name: BridgeEventName) => void): ScopedEvents {
    return new ScopedEvents(this.id, onError);
  }
}

const pluginEvents: ReadonlySet<string> = new Set(PLUGIN_EVENT_NAMES);

/** Subscriptions limited to one bridge, all undone by `dispose()` (a plugin's teardown). */
export class ScopedEvents implements BridgeEvents {
  private readonly undo: (() => void)[] = [];

  constructor(
    private readonly bridgeId: string,
    private readonly onError?: (error: unknown, name: BridgeEventName) => void,
  ) {}

  active(name: BridgeEventName): boolean {
    return channels[name].hasSubscribers;
  }

  /** Plugins may publish their own event kinds only: a forged core event would mislead every consumer. */
  publish<K extends PluginEventName>(name: K, payload: Omit<BridgeEventMap[K], 'bridge'>): void {
    if (!pluginEvents.has(name)) throw new BridgeError('BRIDGE_ERR_EVENT_NOT_PUBLISHABLE', { name });
    const target = channels[name];
    if (target.hasSubscribers) target.publish({ bridge: this.bridgeId, ...payload });
  }

  subscribe<K extends BridgeEventName>(name: K, handler: (event: BridgeEventMap[K]) => void): () => void {
    const target = channels[name];
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
    let done = false;
    const unsubscribe = () => {
      if (done) return;
      done = true;
      target.unsubscribe(listener);
    };
    this.undo.push(unsubscribe);
    return unsubscribe;
  }

  dispose(): void {
    for (const unsubscribe of this.undo.splice(0)) unsubscribe();
  }
}
