import { Counter, Gauge, type Registry } from 'prom-client';
import type { Bridge } from '../bridge.js';
import { SERVER_VERSION } from '../version.js';

type DispatcherTotals = ReturnType<Bridge['stats']>['dispatcher']['totals'];

const DISPATCHER_TOTALS: readonly (keyof DispatcherTotals)[] = ['pushed', 'started', 'completed', 'failed', 'timedOut', 'aborted', 'abandoned'];

/**
 * Gauges read from the bridge's live state at scrape time (connections, queue, clients, write
 * backlog): nothing is updated on the hot path. One `stats()` call per scrape is shared by the
 * gauges that need it.
 */
export function registerStateMetrics(registry: Registry, bridge: Bridge): void {
  const registers = [registry];
  let cached: ReturnType<Bridge['stats']> | null = null;
  // prom-client runs every collect of one scrape synchronously, before any microtask: the
  // snapshot is shared by that scrape and dropped before the next one.
  const stats = () => {
    if (cached === null) {
      cached = bridge.admin.stats();
      queueMicrotask(() => (cached = null));
    }
    return cached;
  };

  new Gauge({
    name: 'botbridge_info',
    help: 'Always 1; the labels carry the server version.',
    labelNames: ['version'],
    registers,
    collect() {
      this.set({ version: SERVER_VERSION }, 1);
    },
  });
  // Cluster mode only: the NATS link and the fleet as this node sees it (docs/cluster.md).
  if (bridge.settings.cluster !== undefined) {
    new Gauge({
      name: 'botbridge_cluster_nats_connected',
      help: 'Cluster mode: 1 while this node is connected to NATS, 0 while it is lost (degraded).',
      registers,
      collect() {
        this.set(bridge.admin.clusterStatus()?.nats === 'connected' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'botbridge_cluster_nodes',
      help: 'Cluster mode: live nodes this node sees (itself included).',
      registers,
      collect() {
        this.set(bridge.admin.clusterStatus()?.nodes ?? 0);
      },
    });
  }
  new Gauge({
    name: 'botbridge_connections',
    help: 'Open bridge-script connections, by state (handshaking or ready).',
    labelNames: ['state'],
    registers,
    collect() {
      const s = stats();
      this.set({ state: 'ready' }, s.clients);
      this.set({ state: 'handshaking' }, Math.max(0, s.connections - s.clients));
    },
  });
  new Gauge({
    name: 'botbridge_clients',
    help: 'Handshaken clients, by bot.',
    labelNames: ['bot'],
    registers,
    collect() {
      this.reset();
      const perBot = new Map<string, number>();
      for (const client of bridge.admin.clients()) perBot.set(client.botName, (perBot.get(client.botName) ?? 0) + 1);
      for (const [bot, count] of perBot) this.set({ bot }, count);
    },
  });
  new Gauge({
    name: 'botbridge_client_rtt_seconds',
    help: 'Round-trip time of the last ping of each connected client.',
    labelNames: ['bot', 'device'],
    registers,
    collect() {
      this.reset();
      for (const client of bridge.admin.clients()) {
        if (client.rttMs !== null) this.set({ bot: client.botName, device: client.deviceId }, client.rttMs / 1_000);
      }
    },
  });
  new Gauge({
    name: 'botbridge_queue_depth',
    help: 'Messages queued and not yet started.',
    registers,
    collect() {
      this.set(stats().dispatcher.queued);
    },
  });
  new Gauge({
    name: 'botbridge_jobs_in_flight',
    help: 'Messages being processed now.',
    registers,
    collect() {
      this.set(stats().dispatcher.running);
    },
  });
  new Gauge({
    name: 'botbridge_jobs_lingering',
    help: 'Timed-out or aborted jobs whose plugin code has not returned yet (they hold no slot).',
    registers,
    collect() {
      this.set(stats().dispatcher.lingering);
    },
  });
  new Gauge({
    name: 'botbridge_outbox_queued',
    help: 'Replies kept in the outbox for a bot with no live device (delivered when one is back, or expired).',
    registers,
    collect() {
      this.set(stats().outbox.queued);
    },
  });
  new Gauge({
    name: 'botbridge_queue_saturated',
    help: '1 while the queue is full and sockets are not read.',
    registers,
    collect() {
      this.set(stats().saturated ? 1 : 0);
    },
  });
  new Gauge({
    name: 'botbridge_queue_active_rooms',
    help: 'Rooms with queued or running messages.',
    registers,
    collect() {
      this.set(stats().dispatcher.activeRooms);
    },
  });
  new Gauge({
    name: 'botbridge_queue_max_wait_seconds',
    help: 'Longest time a message has waited in the queue since start.',
    registers,
    collect() {
      this.set(stats().dispatcher.maxWaitMs / 1_000);
    },
  });
  new Counter({
    name: 'botbridge_dispatcher_jobs_total',
    help: 'Dispatcher job transitions since start (pushed, started, completed, failed, timedOut, aborted, abandoned).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      const totals = stats().dispatcher.totals;
      for (const result of DISPATCHER_TOTALS) this.inc({ result }, totals[result]);
    },
  });
  new Gauge({
    name: 'botbridge_store_write_backlog',
    help: 'Rows waiting for the store, by writer.',
    labelNames: ['table'],
    registers,
    collect() {
      const { writers } = stats();
      this.set({ table: 'chat_log' }, writers.chatLog);
      this.set({ table: 'ping' }, writers.ping);
    },
  });
  new Gauge({
    name: 'botbridge_plugin_running',
    help: '1 for each plugin that is running, 0 for one that failed or stopped.',
    labelNames: ['plugin'],
    registers,
    collect() {
      this.reset();
      for (const plugin of bridge.admin.pluginStates()) this.set({ plugin: plugin.name }, plugin.state === 'running' ? 1 : 0);
    },
  });
}
