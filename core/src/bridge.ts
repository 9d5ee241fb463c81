import type {
  BridgeApi,
  SendOptions,
  BridgeConfig,
  BridgeSettings,
  ClientInfo,
  PluginEntry,
  OutgoingReply,
  Reply,
  ReplyTarget,
  SendResult,
} from '@botbridge/sdk';
import { Registry } from 'prom-client';
import { BridgeAdmin } from './admin/bridge-admin.js';
import type { ClusterLink } from './cluster/cluster-link.js';
import type { ClusterNode } from './cluster/cluster-node.js';
import { resolveNodeId } from './cluster/node-id.js';
import { ApprovalCache } from './approval/approval-cache.js';
import { BotSettings } from './bots/bot-settings.js';
import { resolveConfig } from './config/load-config.js';
import { BridgeError, reasonOf } from './errors.js';
import { EventBus, eventTime } from './events/bridge-events.js';
import { createHooks, type PluginErrorEvent } from './hooks.js';
import { Journal } from './journal/journal.js';
import { JournalReplay } from './journal/journal-replay.js';
import { JournalAdoption } from './journal/journal-adoption.js';
import { DeviceDedupLoader } from './journal/device-dedup.js';
import { LOCAL_NODE_ID } from './store/migration-journal-owner.js';
import { LogCategories } from './log-categories.js';
import { createLogger, flushLogger, type CoreLogger } from './logger.js';
import { Counters } from './metrics/counters.js';
import { MonitorServices } from './monitor/monitor-services.js';
import { PingRecorder } from './monitor/ping-recorder.js';
import { Outbound } from './outbound/outbound.js';
import { Outbox } from './outbound/outbox.js';
import { ReplyPath } from './outbound/reply-path.js';
import { Admission } from './pipeline/admission.js';
import { MemoryRelief, setHeapGrowth } from './monitor/memory-relief.js';
import { Deduplicator } from './pipeline/dedup.js';
import { Dispatcher } from './pipeline/dispatcher.js';
import { createMessageWorker, type MessageJob } from './pipeline/message-job.js';
import { SandboxSource, sandboxPacket, type InjectInput, type InjectResult } from './pipeline/message-source.js';
import { PluginGeneration, PluginGenerations } from './plugins/plugin-generation.js';
import { PluginHost, type PluginState } from './plugins/plugin-host.js';
import { PluginReloader, type ReloadReport } from './plugins/plugin-reload.js';
import { SecurityServices } from './session/security-services.js';
import { AuthGuard } from './session/auth-guard.js';
import { ConnectionManager } from './session/connection-manager.js';
import { SessionRegistry } from './session/session-registry.js';
import type { SessionDrain } from './session/session-drain.js';
import { HealthTrackedStore } from './store/health-tracked-store.js';
import { openStore } from './store/open-store.js';
import { StoreHealth, type StoreHealthState } from './store/store-health.js';
import type { JournalEntry, JournalKey, Store } from './store/types.js';
import { toChatLogRow, type ChatLogInput } from './monitor/chat-log-row.js';
import { SERVER_VERSION } from './version.js';

export interface CreateBridgeOptions {
  /** The operator's config (validated here). */
  readonly config?: BridgeConfig;
  /** A store to use instead of opening `store.url` (the bridge does not close it). */
  readonly store?: Store;
  readonly logger?: CoreLogger;
  /**
   * Reads the operator's config again for a hot reload (`reload()` without a config): the server
   * passes a fresh import of bridge.config.ts with its command-line overrides.
   */
  readonly configSource?: () => Promise<BridgeConfig>;
  /**
   * The journal's node id without NATS (tests of failover on one store); cluster mode uses
   * `cluster.nodeId`. With one, the journal's rows are this node's, the start replays only them,
   * each handshake loads the device's dedup keys from every node, and `adoptNode` takes over a
   * dead node's rows. Neither: a single process (rows under 'local', every row its own).
   */
  readonly nodeId?: string;
}

export type BridgePhase = 'created' | 'starting' | 'running' | 'closing' | 'closed';

/**
 * The composition root: wires transport → session → admission → dispatcher → hooks → outbound,
 * owns their lifecycle, and exposes the bridge to plugins (BridgeApi), the CLI and tests.
 * Close is phased: stop accepting, drain in-flight work, flush writes, dispose plugins
 * last-set-up-first, close the store.
 */
export class Bridge {
  readonly settings: BridgeSettings;
  /** The root logger (the admin server logs under it). */
  readonly log: CoreLogger;
  /** The live event stream (diagnostics_channel), for the debug channel, dashboards and profilers. */
  private readonly counters = new Counters();
  readonly events = new EventBus(this.counters);
  /**
   * This bridge's Prometheus registry (never prom-client's global one: a process may run several
   * bridges). Plugin metrics live here; the core's are added while the admin server serves
   * /metrics (metrics/prometheus.ts).
   */
  readonly metricsRegistry = new Registry();
  /** What operators' tools steer the running bridge through (admin HTTP routes, debug channel, test kit). */
  readonly admin: BridgeAdmin;
  // The parts below are private: plugins reach the bridge through their context, tools through `admin`.
  /** The plugin sets: the current one and its hooks (a reload swaps it; plugins/plugin-generation.ts). */
  private readonly generations: PluginGenerations;
  private readonly reloader: PluginReloader;
  private readonly registry = new SessionRegistry();
  /** Loggers per category (`log.categories`); `log` is the root. */
  private readonly logs: LogCategories;
  private phase: BridgePhase = 'created';
  private storeRef: Store | undefined;
  private readonly ownsStore: boolean;
  private readonly approvals: ApprovalCache;
  private readonly dispatcher: Dispatcher<MessageJob>;
  private readonly replies: ReplyPath;
  private readonly outbound: Outbound;
  /** Replies kept for bots with no live device (null when replies.outbox.enabled is false). */
  private readonly outbox: Outbox | null;
  private readonly monitor: MonitorServices;
  /** Whether the store answers (every store call reports to it); see store/store-health.ts. */
  private readonly storeHealth: StoreHealth;
  private readonly connections: ConnectionManager;
  /** Issue 13: per-bot keyring (rotation, auth.secretsFile) and replay guard. */
  private readonly auth: AuthGuard;
  private readonly security: SecurityServices;
  private readonly admission: Admission;
  /** journal: durable admitted messages, restart dedup and replay (null when journal.enabled is false). */
  private readonly journal: Journal | null;
  private readonly dedup: Deduplicator;
  private readonly relief: MemoryRelief | null;
  /** journal: the previous run's unanswered messages, admitted as their phones come back. */
  private readonly replay: JournalReplay | null;
  /** Cluster mode: claims and replays a dead node's unanswered messages (null in a single process). */
  private readonly adoption: JournalAdoption | null;
  private stopAdopting: (() => void) | undefined;
  private boundAddress: { host: string; port: number } | null = null;
  /** Cluster mode: this node's id (null on a single node). */
  readonly nodeId: string | null;
  /** Cluster mode: the NATS link, joined first in start() (the module is loaded only then). */
  private cluster: ClusterLink | null = null;
  /** The admin HTTP server's URL, for this node's lease (set by `botbridge start`). */
  adminUrl: string | null = null;

  constructor(options: CreateBridgeOptions = {}) {
    const { settings, plugins } = resolveConfig(options.config ?? {});
    this.settings = settings;
    this.log = options.logger ?? createLogger(settings.log);
    this.logs = new LogCategories(this.log, settings.log.categories);
    // Validates every plugin config first: a broken one fails the construction, as before.
    this.generations = new PluginGenerations(this.buildGeneration(1, plugins, settings));
    this.storeRef = options.store;
    this.ownsStore = options.store === undefined;
    this.nodeId = settings.cluster ? resolveNodeId(settings.cluster.nodeId) : null;
    // Cluster mode: every metric of this node carries its id (fleet dashboards sum over nodes).
    if (this.nodeId !== null) this.metricsRegistry.setDefaultLabels({ node: this.nodeId });
    const { counters, log, logs, registry, events } = this;
    const hooks = this.generations.hooks;
    // Per-bot settings belong to the current plugin set (a reload rebuilds them): read at each call.
    const botSettings = {
      outboxTtlMs: (botName: string) => this.botSettings.outboxTtlMs(botName),
      replyGapMs: (key: string) => this.botSettings.replyGapMs(key),
      isOrdered: (key: string) => this.botSettings.isOrdered(key),
      roomOverride: (botName: string, roomKey: string) => this.botSettings.roomOverride(botName, roomKey),
    };
    // The journal's owner: the cluster node, or (tests of failover without NATS) the option.
    const journalNode = this.nodeId ?? options.nodeId;
    const p = settings.pipeline;
    this.storeHealth = new StoreHealth({ onChange: (state, reason) => this.storeHealthChanged(state, reason) });
    this.approvals = new ApprovalCache({
      store: () => this.store,
      log: logs.get('store'),
      autoApprove: settings.approval.autoApprove,
      refreshIntervalMs: settings.approval.refreshIntervalMs,
      fullRefreshIntervalMs: settings.approval.fullRefreshIntervalMs,
      staleAfterMs: settings.approval.staleAfterMs,
      storeHealthy: () => this.storeHealth.healthy,
      onDeviceChange: (botName, deviceId, status) => this.connections.deviceChanged(botName, deviceId, status),
    });

    const j = settings.journal;
    this.journal = !j.enabled ? null : new Journal({
      store: () => this.store,
      commitIntervalMs: j.commitIntervalMs,
      bufferLimit: j.bufferLimit,
      retentionMs: Math.max(p.dedupWindowMs, j.replayMaxAgeMs),
      pruneIntervalMs: j.pruneIntervalMs,
      pruneBatchSize: j.pruneBatchSize,
      events,
      log: logs.get('store'),
      ...(journalNode === undefined ? {} : { nodeId: journalNode }),
      // Cluster mode: a done message's key goes out on NATS in the turn of its socket write (a
      // survivor adopting this node's rows skips it). A single node has no such callback.
      // Its admissions too, in the turn they are buffered: if this node dies before the commit,
      // the survivor adopting its rows restores them from its peers' memory.
      ...(settings.cluster ? {
        notifyDone: (key: JournalKey) => this.cluster?.notices.messageDone(key),
        notifyAdmitted: (entry: JournalEntry) => this.cluster?.notices.messageAdmitted(entry),
      } : {}),
    });
    const replyLog = logs.get('reply');
    const queueLog = logs.get('queue');
    const ob = settings.replies.outbox;
    this.outbox = !ob.enabled ? null : new Outbox({
      store: () => this.store,
      events,
      log: replyLog,
      ttlMs: (botName) => botSettings.outboxTtlMs(botName),
      gapMs: (roomKey) => botSettings.replyGapMs(roomKey),
      sweepIntervalMs: ob.sweepIntervalMs,
      sweepBatchSize: ob.sweepBatchSize,
      hasApprovedDevice: (botName) => this.approvals.hasApprovedDevice(botName),
      // Cluster mode: a device of the bot on another node can take the backlog too (through it).
      canDeliver: (botName): boolean => outbound.canDeliver(botName) || (this.cluster?.holdsBot(botName) ?? false),
      write: (out): Promise<boolean> => outbound.writeQueued(out),
      ...(journalNode === undefined ? {} : { nodeId: journalNode }),
      ...(settings.cluster ? {
        delivered: (rowId: number) => this.cluster?.notices.rowDelivered(rowId),
        deliveredElsewhere: (rowId: number): boolean => {
          const known = this.cluster?.notices.deliveredElsewhere(rowId) ?? false;
          if (known) counters.inc('cluster', 'outbox_already_delivered');
          return known;
        },
      } : {}),
    });
    const outbound: Outbound = new Outbound({
      registry,
      counters,
      log: replyLog,
      settings,
      events,
      replyGapMs: (roomKey) => botSettings.replyGapMs(roomKey),
      ...(this.outbox ? { outbox: this.outbox } : {}),
      ...(settings.cluster ? {
        remote: (out: OutgoingReply) => this.cluster?.deliverRemote(out) ?? Promise.resolve(null),
        remoteDevice: (out: OutgoingReply) => this.cluster?.deliverToDevice(out) ?? null,
      } : {}),
    });
    this.outbound = outbound;
    this.replies = new ReplyPath({
      outbound,
      hooks,
      log: replyLog,
      events,
      holdMs: p.replyHoldMs,
      gapMs: p.replyGapMs,
      gapFor: (roomKey) => botSettings.replyGapMs(roomKey),
      isOrdered: (roomKey) => botSettings.isOrdered(roomKey),
    });
    this.dispatcher = new Dispatcher<MessageJob>({
      concurrency: p.concurrency,
      // The bot's own settings (its config file), else pipeline.rooms (both in botSettings), else kb_rooms.
      roomConcurrency: (botName, roomKey) =>
        botSettings.roomOverride(botName, roomKey)?.concurrency ?? this.approvals.roomApproval(botName, roomKey)?.concurrency ?? undefined,
      capacity: p.queueCapacity,
      processingTimeoutMs: p.processingTimeoutMs,
      // The events' clock, so the worker can split queue wait from slot wait for the profiler.
      now: eventTime,
      timeRunnable: () => events.active('message:started'),
      worker: createMessageWorker({
        settings,
        approvals: this.approvals,
        plugins: this.generations,
        replies: this.replies,
        counters,
        log: logs.get('message'),
        events,
      }),
      onSaturated: () => this.setPaused('queue', true),
      onUnsaturated: () => this.setPaused('queue', false),
      onJobEnd: (job) => job.session.jobEnded?.(),
      onTimeout: (job) => {
        // The job's abort already finished its reply ticket (ReplyPath.watch): later messages of the room do not wait.
        events.publish('message:failed', { result: 'timed_out', count: 1 });
        queueLog.warn({ botName: job.botName, room: job.message.room, traceId: job.message.traceId, code: 'BRIDGE_ERR_PROCESSING_TIMEOUT' }, 'message processing timed out');
      },
      onError: (job, error) => {
        events.publish('message:failed', { result: 'failed', count: 1 });
        queueLog.error({ botName: job.botName, room: job.message.room, traceId: job.message.traceId, err: reasonOf(error) }, 'message job failed');
      },
    });
    this.monitor = new MonitorServices({
      settings,
      store: () => this.store,
      events,
      logs,
      activeConnections: () => this.connections.size,
      queueDepth: () => this.dispatcher.length(),
      storeDown: () => !this.storeHealth.healthy,
      onSaturated: () => this.setPaused('writes', true),
      onUnsaturated: () => this.setPaused('writes', false),
    });

    this.relief = settings.memory.releaseAfterQuietMs === 0 ? null : new MemoryRelief({
      activity: () => counters.get('messages', 'admitted'),
      quietMs: settings.memory.releaseAfterQuietMs,
      minBurst: 1_000,
      log,
    });
    this.dedup = new Deduplicator({ windowMs: p.dedupWindowMs, legacyTwinWindowMs: p.legacyTwinWindowMs, maxEntries: p.dedupMaxEntries });
    this.admission = new Admission({
      settings,
      dedup: this.dedup,
      journal: this.journal ?? undefined,
      dispatcher: this.dispatcher,
      replies: this.replies,
      counters,
      log: logs.get('message'),
      events,
    });
    this.replay = this.journal === null ? null : new JournalReplay({
      store: () => this.store,
      admission: this.admission,
      registry,
      approvals: this.approvals,
      events,
      log: logs.get('message'),
      waitMs: j.replayWaitMs,
      maxAgeMs: j.replayMaxAgeMs,
      ...(journalNode === undefined ? {} : { nodeId: journalNode }),
      // Cluster mode: a restart under this id asks the other nodes which of its previous run's rows it had answered.
      ...(settings.cluster ? {
        journal: this.journal,
        answeredBeforeRestart: (keys: readonly JournalKey[]) => this.cluster?.answeredBeforeRestart(keys) ?? Promise.resolve(new Set<number>()),
      } : {}),
    });
    this.adoption = this.replay === null || journalNode === undefined ? null : new JournalAdoption({
      store: () => this.store, nodeId: journalNode, replay: this.replay, events, log: logs.get('message'),
      ...(settings.cluster && this.journal ? {
        journal: this.journal,
        answeredElsewhere: (key: JournalKey) => this.cluster?.notices.answeredElsewhere(key) ?? false,
        admittedElsewhere: {
          entriesOf: (nodeId: string, device?: { botName: string; deviceId: string }) => this.cluster?.admissions.entriesOf(nodeId, device) ?? [],
          forget: (nodeId: string, keys: readonly JournalKey[]) => this.cluster?.admissions.forget(nodeId, keys),
        },
      } : {}),
    });
    const deviceDedup = this.journal === null || journalNode === undefined ? null : new DeviceDedupLoader({
      journal: this.journal, dedup: this.dedup, windowMs: p.dedupWindowMs, limit: DEVICE_DEDUP_LIMIT,
      timeoutMs: settings.store.queryTimeoutMs, log: logs.get('message'),
    });
    this.auth = new AuthGuard(settings.auth, settings.bans);
    this.security = new SecurityServices(settings, this.auth, logs.get('connection'));
    this.connections = new ConnectionManager({
      settings,
      approvals: this.approvals,
      storeHealth: this.storeHealth,
      registry,
      hooks,
      events,
      auth: this.auth,
      counters,
      log: logs.get('connection'),
      logs,
      serverVersion: SERVER_VERSION,
      admission: this.admission,
      ...(this.replay ? { journalReplay: this.replay } : {}),
      ...(deviceDedup ? { deviceDedup } : {}),
      ...(settings.cluster && this.adoption ? { deviceTakeover: (botName: string, deviceId: string) => this.takeOverDevice(botName, deviceId) } : {}),
      pings: new PingRecorder({ events, writer: this.monitor.pings }),
      ...(settings.cluster ? {
        presence: {
          ready: (botName: string, deviceId: string) => this.cluster?.sessionReady(botName, deviceId),
          gone: (botName: string, deviceId: string) => this.cluster?.sessionGone(botName, deviceId),
        },
      } : {}),
    });
    this.reloader = new PluginReloader({
      generations: this.generations,
      build: (id, entries, next) => this.buildGeneration(id, entries, next),
      settings,
      ...(options.configSource ? { configSource: options.configSource } : {}),
      running: () => this.phase === 'running',
      // The signing secrets (auth.secretKey, salt, secrets, bots) are swapped with the plugin set.
      applySettings: (next) => this.security.applySecrets(next.auth),
      log,
      // An aborted job releases its pin at once, so the processing timeout bounds the wait.
      retireWaitMs: p.processingTimeoutMs + 5_000,
    });
    const perBot = { apply: (botName: string, document: unknown) => this.botSettings.apply(botName, document) };
    this.admin = new BridgeAdmin({
      bridge: this,
      registry,
      approvals: this.approvals,
      store: () => this.store,
      counters,
      botSettings: perBot,
      bans: this.auth.bans,
      // The scheduler's admin routes reach it through the current plugin set.
      service: (name: string) => this.generations.active.host.toolService(name),
      ...(settings.cluster ? {
        announceApproval: (kind: 'device' | 'room', botName: string, id: string) => this.cluster?.publishApproval({ kind, botName, id }),
        fleetClients: () => this.cluster?.fleetClients() ?? Promise.resolve(this.clients()),
        clusterStatus: () => this.cluster?.status() ?? null,
        disconnectRemote: (botName: string, deviceId: string) => this.cluster?.disconnectRemote(botName, deviceId) ?? Promise.resolve(false),
      } : {}),
    });
  }

  /** Per-bot settings: the core's section and each plugin's `botConfig`, of the current plugin set. */
  private get botSettings(): BotSettings {
    return this.generations.active.botSettings;
  }

  /**
   * A plugin set: its own hooks (tapable cannot untap, so a reload never re-taps running hooks),
   * its per-bot settings (built from the config's pipeline.rooms / replyGapMs / outbox TTL and
   * the plugins' schemas) and its host. The host validates every plugin config here.
   */
  private buildGeneration(id: number, entries: readonly PluginEntry[], settings: BridgeSettings): PluginGeneration {
    const botSettings = new BotSettings({ replyGapMs: settings.pipeline.replyGapMs, outboxTtlMs: settings.replies.outbox.ttlMs, rooms: settings.pipeline.rooms });
    const hooks = createHooks();
    const host = new PluginHost(entries, {
      hooks,
      bridge: this.api(),
      log: this.log,
      settings: settings.pluginHost,
      events: this.events,
      botSettings,
      metricsRegistry: this.metricsRegistry,
      pluginLog: (name) => this.logs.plugin(name),
      report: (event, error) => this.reportPluginError(event, error),
      generation: id,
    });
    return new PluginGeneration(id, hooks, host, botSettings);
  }

  private reportPluginError(event: PluginErrorEvent, error: unknown): void {
    this.logs.plugin(event.plugin).error({ hook: event.hook, code: event.code, traceId: event.traceId, err: reasonOf(error) }, event.message);
    this.events.publish('plugin:error', { plugin: event.plugin, hook: event.hook, code: event.code, message: event.message, traceId: event.traceId ?? null });
  }

  /**
   * Hot reload: re-reads the config (the `configSource` the server gave, or `config`), sets the
   * new plugin set up beside the running one and swaps it in without touching a connection.
   * Never throws: a refused reload is `ok: false` with the reason, and the old set serves on.
   * TLS certificates and the secrets file are re-read too (issue 13), whatever the plugin
   * reload's outcome: their own failures keep the previous ones and are logged.
   */
  async reload(config?: BridgeConfig): Promise<ReloadReport> {
    const report = await this.reloader.reload(config);
    if (this.phase !== 'running') return report;
    return { ...report, files: await this.security.reloadFiles() };
  }

  private get store(): Store {
    if (!this.storeRef) throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: 'the bridge has not started' });
    return this.storeRef;
  }

  /** Where the bridge is in its lifecycle (`closing` from the first step of close() until it is closed). */
  get lifecycle(): BridgePhase {
    return this.phase;
  }

  get address(): { host: string; port: number } | null {
    return this.boundAddress;
  }

  /** Opens the store, sets plugins up, then accepts connections. */
  async start(): Promise<{ host: string; port: number }> {
    if (this.phase !== 'created') throw new BridgeError('BRIDGE_ERR_ALREADY_STARTED', { state: this.phase });
    this.phase = 'starting';
    try {
      // Cluster mode: NATS first. Unreachable means no start (BRIDGE_ERR_CLUSTER_CONNECT), and
      // no phone is accepted before the fleet's leases and presence are loaded.
      if (this.settings.cluster) await this.joinCluster(this.settings.cluster);
      const { url, connectionLimit, queueLimit, connectTimeoutMs, queryTimeoutMs, timeZone } = this.settings.store;
      const opened = this.storeRef ?? await openStore(url, { connectionLimit, queueLimit, connectTimeoutMs, queryTimeoutMs, timeZone });
      this.storeRef = new HealthTrackedStore(opened, this.storeHealth);
      await this.security.startSecrets();
      await this.approvals.load();
      this.approvals.start();
      // journal: the dedup memory of the previous process, before the first line is read.
      await this.seedDedup();
      // journal: the unanswered rows are known before any phone can connect, so a phone's own
      // rows are admitted ahead of its first line (JournalReplay.admitBefore).
      await this.loadReplay();
      // outbox: the previous run's queued replies, known before any device can connect.
      await this.outbox?.start();
      await this.generations.active.host.setup();
      await this.generations.hooks.onStart.promise();
      // listen.port (+ the listen.tls shorthand), or every entry of `listeners`.
      // Host and port only: `address` is what /api/stats and the tests read (listenerAddresses has `tls`).
      const [first] = await this.security.startListeners(this.connections);
      this.boundAddress = first === undefined ? null : { host: first.host, port: first.port };
      this.monitor.start();
      this.journal?.startPruning();
      this.relief?.start();
      if (this.settings.memory.heapGrowthPercent > 0) setHeapGrowth(this.settings.memory.heapGrowthPercent);
    } catch (error) {
      await this.shutdownParts();
      this.phase = 'closed';
      throw error;
    }
    this.phase = 'running';
    if (this.settings.approval.autoApprove) {
      this.log.warn('AUTO-APPROVE IS ON: every new device and room is approved on first contact. Never use this in production.');
    }
    this.log.info({ ...this.boundAddress, store: this.store.description, plugins: this.generations.active.host.list().map((p) => p.name) }, 'botbridge listening');
    this.replay?.start();
    this.watchDeadNodes();
    // The schema requires at least one listener (listen.port or a `listeners` entry).
    return this.boundAddress ?? { host: this.settings.listen.host, port: this.settings.listen.port };
  }

  /**
   * Phased close; safe to call twice. Drains: reading stops on every connection at once; each
   * connection is closed as soon as its own admitted messages are finished and their replies
   * written (an idle one at once), the others stay open while admitted work finishes
   * (`shutdown.graceMs`) and its replies are written (`shutdown.flushMs`), then the rest close.
   * What could not finish stays in the journal for the next start.
   */
  async close(): Promise<void> {
    if (this.phase === 'closed' || this.phase === 'closing') return;
    const wasRunning = this.phase === 'running';
    this.phase = 'closing';
    const { graceMs, flushMs } = this.settings.shutdown;
    // Before anything awaits: a finished job returns an admission credit, and without this
    // hold reading would resume and feed lines to a closing dispatcher.
    this.connections.pauseAll('shutdown');
    // No fallback replay into a closing dispatcher: unadmitted rows stay for the next start.
    this.replay?.close();
    this.events.publish('bridge:closing', { graceMs, flushMs });
    await this.connections.stopAccepting();
    if (wasRunning) {
      this.log.info({ queued: this.dispatcher.length(), running: this.dispatcher.running(), connections: this.connections.size, graceMs, flushMs }, 'draining');
      // Each connection closes once its own work is done: the phone then keeps what it writes
      // next in its offline queue instead of writing it into a socket nobody reads.
      let drain: SessionDrain | undefined;
      const pending = this.replies.watchDevices((botName, deviceId) => drain?.deviceClear(botName, deviceId));
      drain = this.connections.closeEachWhenDone((botName, deviceId) => pending.pending(botName, deviceId), flushMs);
      const { abandoned, aborted } = await this.dispatcher.close({ graceMs });
      for (const job of abandoned) {
        this.replies.finish(job.ticket, false);
        // The dispatcher returns abandoned jobs without onJobEnd: their credits come back here.
        job.session.jobEnded?.();
      }
      // Held replies go out at once; bounded, because a proactive send can hold a ticket open.
      await withinMs(this.replies.drain({ immediate: true }), flushMs);
      this.countUnfinished(abandoned, aborted);
      await this.connections.flush(flushMs);
    }
    this.connections.closeAll('BRIDGE_ERR_SHUTDOWN');
    await this.generations.hooks.onClose.promise().catch((error: unknown) => this.log.error({ err: reasonOf(error) }, 'onClose failed'));
    await this.shutdownParts();
    this.phase = 'closed';
    this.log.info('botbridge closed');
    // Log lines are written asynchronously: none may be lost when the process exits after close().
    await flushLogger(this.log);
  }

  /**
   * Jobs the shutdown left unfinished: queued ones that never ran, and running ones aborted
   * before they replied (their tickets settled unprocessed, so the journal did not mark them
   * done) stay in the journal and count as `jobs{kept_for_replay}`; the rest (no journal or no
   * log id) as `jobs{abandoned_at_shutdown}`. An aborted job that had replied is done.
   */
  private countUnfinished(abandoned: readonly MessageJob[], aborted: readonly MessageJob[]): void {
    const unfinished = [...abandoned, ...aborted.filter((job) => this.replies.isUnprocessed(job.ticket))];
    if (unfinished.length === 0) return;
    const kept = this.journal === null ? 0 : unfinished.filter((job) => job.journalKey).length;
    if (unfinished.length > kept) this.events.publish('message:failed', { result: 'abandoned_at_shutdown', count: unfinished.length - kept });
    if (kept > 0) this.events.publish('message:failed', { result: 'kept_for_replay', count: kept });
    // A warning when the next start answers them all; an error when some are lost.
    const level = unfinished.length > kept ? 'error' : 'warn';
    this.log[level](
      { count: unfinished.length, keptForReplay: kept, traceIds: unfinished.slice(0, 20).map((j) => j.message.traceId) },
      'messages not processed before shutdown',
    );
  }

  /** This node's clients (in cluster mode each names this node; the fleet's: `admin.fleetClients()`). */
  clients(): ClientInfo[] {
    const own = this.connections.clients();
    return this.nodeId === null ? own : own.map((client) => ({ ...client, node: this.nodeId! }));
  }

  /**
   * Cluster mode: this node's membership (leases, `isNodeAlive`, `onNodeDead`, presence, the
   * NATS connection; interface at the top of cluster/cluster-node.ts), null on a single node and
   * before start(). For the failover part and for tests.
   */
  get clusterNode(): ClusterNode | null {
    return this.cluster?.node ?? null;
  }

  /** Loaded here only: a single node never imports NATS. */
  private async joinCluster(cluster: NonNullable<BridgeSettings['cluster']>): Promise<void> {
    const { ClusterLink } = await import('./cluster/cluster-link.js');
    this.cluster = await ClusterLink.join({
      settings: { ...cluster, nodeId: this.nodeId! },
      log: this.log,
      counters: this.counters,
      localClients: () => this.connections.clients(),
      deliverHere: (out, paced) => this.outbound.deliverHere(out, paced),
      adminDisconnect: (botName, deviceId) => this.admin.disconnect(botName, deviceId),
      closeDevice: (botName, deviceId) => this.registry.get(botName, deviceId)?.close('BRIDGE_ERR_REPLACED', 'taken over by another node'),
      // A connect elsewhere only matters for a device this node has never seen (its status
      // changes come with their own events); anything else is re-read from SQL.
      refreshApproval: async (change) => {
        if (change.reason === 'connect' && this.approvals.deviceStatus(change.botName, change.id) !== undefined) return;
        await this.approvals.refreshEntry(change.kind, change.botName, change.id);
      },
      remoteDevice: (botName) => this.outbox?.deliverBot(botName),
      leaseInfo: () => ({
        admin: this.adminUrl,
        listen: this.boundAddress ? `${this.boundAddress.host}:${this.boundAddress.port}` : null,
        clients: this.registry.size,
      }),
    });
  }

  /** The current plugin set's plugins, then those of sets retired by a reload and still finishing jobs. */
  pluginStates(): PluginState[] {
    const retiring = this.reloader.retiringGenerations().flatMap((g) => g.host.list().map((p) => (p.state === 'running' ? { ...p, state: 'retiring' as const } : p)));
    return [...this.generations.active.host.list(), ...retiring];
  }

  stats() {
    return {
      phase: this.phase,
      connections: this.connections.size,
      clients: this.registry.size,
      saturated: this.connections.isSaturated,
      dispatcher: this.dispatcher.stats(),
      writers: this.monitor.pending(),
      /** Remembered dedup entries (bounded by the dedup cap) and journal entries awaiting a commit. */
      buffered: { dedup: this.dedup.size(), journal: this.journal?.pending() ?? 0 },
      /** Whether reading is paused because a store writer is behind (`saturated` covers both reasons). */
      writesSaturated: this.monitor.saturated,
      /** Replies waiting in the outbox for a device of their bot. */
      outbox: this.outbox?.stats() ?? { queued: 0, rooms: 0 },
      /** Proactive sends waiting for their turn in the send governor. */
      governor: this.replies.governorStats(),
      store: { health: this.storeHealth.state, approvalsFresh: this.approvals.isFresh() },
      counters: this.counters.snapshot(),
    };
  }

  /**
   * Runs a synthetic chat line through admission, the dispatcher, the hooks and outbound as if
   * `deviceId` had sent it (the debug channel's sandbox). Device and room approvals apply, the
   * replies are real sends (to that device when it is connected, else routed like any reply),
   * and every step is on the event stream under the returned trace id. Dedup is skipped.
   */
  inject(input: InjectInput): InjectResult {
    if (this.phase !== 'running') throw new BridgeError('BRIDGE_ERR_NOT_RUNNING', { state: this.phase });
    const packet = sandboxPacket(input);
    const source = this.registry.get(input.botName, input.deviceId) ?? new SandboxSource(input.botName, input.deviceId, this.approvals);
    this.events.publish('message:injected', { botName: input.botName, deviceId: input.deviceId, room: packet.room });
    return this.admission.admitSynthetic(source, packet);
  }

  /**
   * Proactive send to a room (admin API, schedulers): passes beforeReply like any reply and takes
   * its place in the room's reply order; resolves once written or definitively not.
   */
  send(target: ReplyTarget, reply: Reply | string, options?: SendOptions): Promise<SendResult> {
    return this.replies.send(target, reply, options);
  }

  private api(): BridgeApi {
    return {
      clients: () => this.clients(),
      fleetClients: () => this.admin.fleetClients(),
      reloadApprovals: () => this.approvals.reload(),
      send: (target, reply, options) => this.send(target, reply, options),
      database: () => this.store.pluginDatabase(),
      appendRow: (table, row) => this.appendRow(table, row),
    };
  }

  /**
   * The batched tables the core implements for plugins (`BatchedTables`): each row is mapped
   * onto the store's row and queued on that table's bounded writer. The row types are declared
   * by the plugins that write them; the core states the fields it reads (`ChatLogInput`).
   */
  private appendRow(table: string, row: unknown): void {
    if (table === 'kb_chat_logs') return this.monitor.chatLog.push(toChatLogRow(row as ChatLogInput));
    throw new BridgeError('BRIDGE_ERR_UNKNOWN_TABLE', { table });
  }

  /**
   * Reading from phones pauses while the dispatcher's queue is full or a store writer's buffer is
   * (the store is behind), and resumes when neither is.
   */
  private setPaused(reason: 'queue' | 'writes', paused: boolean): void {
    if (reason === 'queue') {
      this.events.publish('queue:saturation', { transition: paused ? 'paused' : 'resumed', queued: this.dispatcher.length() });
      this.logs.get('queue').warn({ queued: this.dispatcher.length() }, paused ? 'queue full: pausing reads' : 'queue drained: resuming reads');
    } else {
      this.events.publish('store:write-saturation', { transition: paused ? 'paused' : 'resumed', buffered: this.monitor.pending() });
      this.logs.get('store').warn({ buffered: this.monitor.pending() }, paused ? 'store write buffer full: pausing reads' : 'store writes caught up: resuming reads');
    }
    if (paused) this.connections.pauseAll(reason);
    else this.connections.resumeAll(reason);
  }

  /**
   * Logged and counted once per transition. On recovery, devices whose handshake came while the
   * store was degraded (and so could not be registered) are registered now, without a reconnect.
   */
  private storeHealthChanged(state: StoreHealthState, reason: string | null): void {
    // A poll still in flight at close meets the closed store: that is no outage.
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.events.publish('store:health', { state, reason });
    this.monitor.storeHealthChanged(state === 'healthy');
    if (state === 'degraded') {
      this.log.error(
        { store: this.storeRef?.description, reason, staleAfterMs: this.settings.approval.staleAfterMs },
        'store degraded: new handshakes are not approved; live connections keep their cached approval for a while',
      );
      return;
    }
    this.log.warn({ store: this.storeRef?.description }, 'store answers again');
    this.connections.registerUnknownDevices();
    // The first answer may have come from a journal or chat-log retry: refresh approvals now
    // rather than at the next poll, so live phones are answered again without waiting for it.
    void this.approvals.poll();
  }

  /** A store that cannot answer this costs restart dedup only: the bridge still starts. */
  private async seedDedup(): Promise<void> {
    if (this.journal === null) return;
    try {
      const loaded = await this.journal.seedDedup(this.dedup, this.settings.pipeline.dedupWindowMs, this.settings.pipeline.dedupMaxEntries);
      if (loaded > 0) this.log.info({ keys: loaded }, 'journal: dedup keys of the previous run loaded');
    } catch (error) {
      this.log.error({ err: reasonOf(error) }, 'journal: dedup keys could not be loaded; a resent line may be processed again');
    }
  }

  /** A store that cannot answer this costs replay only: the rows stay for the next start. */
  private async loadReplay(): Promise<void> {
    try {
      await this.replay?.load();
    } catch (error) {
      this.log.error({ err: reasonOf(error) }, 'journal replay failed; unanswered messages stay for the next start');
    }
  }

  /**
   * Cluster failover: takes over the unanswered messages of a node whose lease is gone (called
   * by the cluster core's `onNodeDead`, and by tests). Resolves to how many rows this node won;
   * 0 in a single process, for this node's own id, or while not running.
   */
  async adoptNode(deadNodeId: string): Promise<number> {
    if (this.adoption === null || this.phase !== 'running') return 0;
    // Its queued replies too: moved to this node by CAS per room and delivered like its own.
    void this.outbox?.adopt(deadNodeId).catch((error: unknown) => this.log.error({ deadNodeId, err: reasonOf(error) }, 'outbox: taking over a dead node\'s queued replies failed'));
    return this.adoption.adoptNode(deadNodeId);
  }

  /**
   * Cluster mode, at a handshake: when the device's previous node is found gone (a direct
   * request to it; no waiting for its lease to expire), this device's unanswered rows are
   * claimed now and admitted before the phone's fresh lines. The handshake waits at most
   * `store.queryTimeoutMs` for it; a claim that ends later admits its rows when it ends.
   */
  private takeOverDevice(botName: string, deviceId: string): Promise<void> {
    const cluster = this.cluster;
    const adoption = this.adoption;
    if (cluster === null || adoption === null) return Promise.resolve();
    const work = cluster.previousHolderGone(botName, deviceId).then((dead) => dead === null ? 0 : adoption.adoptDevice(dead, botName, deviceId)).then(
      () => undefined,
      (error: unknown) => this.log.warn({ botName, deviceId, err: reasonOf(error) }, 'journal: a dead node\'s messages of this device not taken over at its handshake; its lease expiry takes them over'),
    );
    return withinMs(work, this.settings.store.queryTimeoutMs);
  }

  /**
   * Cluster mode, once running: every node whose lease is gone has its unanswered rows adopted
   * (the survivors race for each row by CAS; see journal/journal-adoption.ts), and at start the
   * rows of owners that are already dead (they died while no node was watching).
   */
  private watchDeadNodes(): void {
    const node = this.cluster?.node;
    if (node === undefined || this.adoption === null) return;
    const adopt = (id: string) => void this.adoptNode(id).catch(() => undefined);
    // 'restarted': a new run of that id is alive and has claimed its previous run's rows itself
    // (JournalReplay.load's CAS); adopting now would take rows the new run is answering.
    this.stopAdopting = node.onNodeDead((id, _lease, reason) => {
      if (reason !== 'restarted' && !node.isNodeAlive(id)) adopt(id);
    });
    // Owners of queued replies too: a dead node may have left outbox rows and no journal rows.
    void Promise.all([this.store.journalOwners(), this.store.outboxOwners()]).then(
      ([journalOwners, outboxOwners]) => {
        const owners = [...journalOwners, ...outboxOwners];
        // 'local': rows a single process left before the switch to cluster mode (journal and outbox).
        for (const id of new Set([...owners, LOCAL_NODE_ID])) if (id !== this.nodeId && !node.isNodeAlive(id)) adopt(id);
      },
      (error: unknown) => this.log.warn({ err: reasonOf(error) }, 'journal: owners of unanswered rows could not be read; dead nodes\' rows wait for their death notice'),
    );
  }

  /** The first bound TLS port (listen.tls or a TLS entry of `listeners`), or null. */
  get tlsAddress(): { host: string; port: number } | null {
    return this.security.tlsAddress;
  }

  /** Every bound bot port, in listener order (the first is `address`). */
  get listenerAddresses(): ReadonlyArray<{ host: string; port: number; tls: boolean }> {
    return this.security.addresses;
  }

  private async shutdownParts(): Promise<void> {
    this.stopAdopting?.();
    // outbox: its running store step (an insert, a delivery, an expiry) ends before the store closes.
    await this.outbox?.close();
    this.security.stop();
    // journal: the last done marks (and admissions) before the store closes.
    this.relief?.stop();
    this.dedup.stop();
    this.replay?.close();
    this.adoption?.close();
    await this.journal?.close();
    // Cluster: the lease is deleted (the others see this node leave, and adopt what it left
    // unanswered) only after the journal's last commit: a done mark still buffered would make a
    // survivor answer that message again.
    await this.cluster?.close().catch((error: unknown) => this.log.warn({ err: reasonOf(error) }, 'cluster: leaving failed'));
    this.cluster = null;
    // A reload in progress ends first (refused: the bridge is not running); retired sets finish tearing down.
    await this.reloader.close();
    await this.generations.active.host.teardown();
    this.approvals.stop();
    await this.monitor.close();
    if (this.ownsStore && this.storeRef) await this.storeRef.close().catch(() => undefined);
  }
}

/** Device keys loaded per handshake in cluster mode at most: 20 msg/s for the 2-minute window is 2,400. */
const DEVICE_DEDUP_LIMIT = 10_000;

/** Resolves when `work` does or after `ms`, whichever is first. */
async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Creates a bridge (not yet started). */
export function createBridge(options: CreateBridgeOptions = {}): Bridge {
  return new Bridge(options);
}
