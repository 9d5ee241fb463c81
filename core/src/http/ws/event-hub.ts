import type { BridgeEventName } from '@botbridge/sdk';
import type { Bridge } from '../../bridge.js';
import { eventTime } from '../../events/bridge-events.js';
import { encode, QUEUE_STATS, type StreamEventName } from './debug-protocol.js';
import { QueueStats } from './queue-stats.js';

/** A debug-channel client as the hub sees it. */
export interface HubClient {
  /** The events the client's filter needs (see EventFilter.listensTo). */
  listensTo(): ReadonlySet<StreamEventName>;
  /** Offers one event, already encoded once for every client. */
  offer(name: StreamEventName, event: Readonly<Record<string, unknown>>, encoded: string): void;
}

/** queue:stats needs these two to compute its wait and processing distributions. */
const STATS_SOURCES: readonly StreamEventName[] = ['message:started', 'message:finished'];

/**
 * Fans the bridge's events out to debug-channel clients. It subscribes to an event channel only
 * while at least one client (or queue:stats) needs that event, and unsubscribes when the last
 * one leaves: with no debug client connected the hot path's `events.active()` checks are false
 * again and nothing is built. Each event is encoded once, whatever the number of clients.
 */
export class EventHub {
  private readonly clients = new Map<HubClient, ReadonlySet<StreamEventName>>();
  private readonly refs = new Map<BridgeEventName, number>();
  private readonly subscriptions = new Map<BridgeEventName, () => void>();
  private readonly queueStats: QueueStats;
  private statsTimer: NodeJS.Timeout | undefined;
  private statsClients = 0;

  constructor(
    private readonly bridge: Bridge,
    private readonly statsIntervalMs: number,
  ) {
    this.queueStats = new QueueStats(bridge);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Adds a client or replaces its interest after a new subscribe. */
  update(client: HubClient): void {
    const before = this.clients.get(client) ?? new Set<StreamEventName>();
    const after = new Set(client.listensTo());
    this.clients.set(client, after);
    for (const name of after) if (!before.has(name)) this.acquire(name);
    for (const name of before) if (!after.has(name)) this.release(name);
  }

  remove(client: HubClient): void {
    const names = this.clients.get(client);
    if (names === undefined) return;
    this.clients.delete(client);
    for (const name of names) this.release(name);
  }

  close(): void {
    for (const client of [...this.clients.keys()]) this.remove(client);
  }

  private acquire(name: StreamEventName): void {
    if (name === QUEUE_STATS) {
      this.statsClients += 1;
      if (this.statsClients === 1) this.startStats();
      return;
    }
    const count = (this.refs.get(name) ?? 0) + 1;
    this.refs.set(name, count);
    if (count !== 1) return;
    // A scope per channel: disposing it leaves nothing behind across many subscribe cycles.
    const scope = this.bridge.events.scope();
    scope.subscribe(name, (event) => this.dispatch(name, event as unknown as Readonly<Record<string, unknown>>));
    this.subscriptions.set(name, () => scope.dispose());
  }

  private release(name: StreamEventName): void {
    if (name === QUEUE_STATS) {
      this.statsClients -= 1;
      if (this.statsClients === 0) this.stopStats();
      return;
    }
    const count = (this.refs.get(name) ?? 0) - 1;
    if (count > 0) {
      this.refs.set(name, count);
      return;
    }
    this.refs.delete(name);
    this.subscriptions.get(name)?.();
    this.subscriptions.delete(name);
  }

  // StreamEventName, not BridgeEventName: a plugin's augmentation widens the latter, and the
  // debug channel streams only the events its protocol lists.
  private dispatch(name: Exclude<StreamEventName, typeof QUEUE_STATS>, event: Readonly<Record<string, unknown>>): void {
    if (name === 'message:started' && typeof event.waitMs === 'number') this.queueStats.wait.add(event.waitMs);
    if (name === 'message:finished' && typeof event.durationMs === 'number') this.queueStats.processing.add(event.durationMs);
    let encoded: string | undefined;
    for (const [client, names] of this.clients) {
      if (!names.has(name)) continue;
      encoded ??= encodeEvent(name, event);
      client.offer(name, event, encoded);
    }
  }

  private startStats(): void {
    for (const name of STATS_SOURCES) this.acquire(name);
    this.queueStats.take(eventTime());
    this.statsTimer = setInterval(() => this.tickStats(), this.statsIntervalMs);
    this.statsTimer.unref();
  }

  private stopStats(): void {
    clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    for (const name of STATS_SOURCES) this.release(name);
  }

  private tickStats(): void {
    const at = eventTime();
    const data = this.queueStats.take(at);
    const event = { ...data, at };
    const encoded = encode({ type: 'event', name: QUEUE_STATS, traceId: null, at, data });
    for (const [client, names] of this.clients) if (names.has(QUEUE_STATS)) client.offer(QUEUE_STATS, event, encoded);
  }
}

function encodeEvent(name: StreamEventName, event: Readonly<Record<string, unknown>>): string {
  const { bridge: _bridge, ...data } = event;
  const traceId = typeof event.traceId === 'string' ? event.traceId : null;
  const at = typeof event.at === 'number' ? event.at : eventTime();
  return encode({ type: 'event', name, traceId, at, data });
}
