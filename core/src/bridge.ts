import type {
  BridgeApi,
  BridgeConfig,
  BridgeSettings,
  ClientInfo,
  OutgoingReply,
  Reply,
  ReplyTarget,
  SendResult,
} from '@botbridge/sdk';
import { ApprovalCache } from './approval/approval-cache.js';
import { resolveConfig } from './config/load-config.js';
import { BridgeError, reasonOf } from './errors.js';
import { EventBus, eventTime } from './events/bridge-events.js';
import { createHooks, type BridgeHooks } from './hooks.js';
import { createLogger, type CoreLogger } from './logger.js';
import { Counters } from './metrics/counters.js';
import { BatchWriter } from './monitor/batch-writer.js';
import { PingRecorder } from './monitor/ping-recorder.js';
import { Outbound } from './outbound/outbound.js';
import { Admission } from './pipeline/admission.js';
import { Deduplicator } from './pipeline/dedup.js';
import { Dispatcher } from './pipeline/dispatcher.js';
import { createMessageWorker, type MessageJob } from './pipeline/message-job.js';
import { ReplySequencer } from './pipeline/reply-sequencer.js';
import { TraceIds } from './pipeline/trace-ids.js';
import { PluginHost, type PluginState } from './plugins/plugin-host.js';
import { v32Codec } from './protocol/codec.js';
import { AuthGuard } from './session/auth-guard.js';
import { ClientSession } from './session/client-session.js';
import { isRefusedStatus } from './session/handshake.js';
import type { SessionDeps } from './session/session-deps.js';
import { SessionRegistry } from './session/session-registry.js';
import { openStore } from './store/open-store.js';
import type { ChatLogRow, PingRow, Store } from './store/types.js';
import { TcpListener } from './transport/tcp-listener.js';
import { toChatLogRow } from './monitor/chat-log-row.js';
import { SERVER_VERSION } from './version.js';

export interface CreateBridgeOptions {
  /** The operator's config (validated here). */
  readonly config?: BridgeConfig;
  /** A store to use instead of opening `store.url` (the bridge does not close it). */
  readonly store?: Store;
  readonly logger?: CoreLogger;
}

type Phase = 'created' | 'starting' | 'running' | 'closing' | 'closed';

/**
 * The composition root: wires transport → session → admission → dispatcher → hooks → outbound,
 * owns their lifecycle, and exposes the bridge to plugins (BridgeApi), the CLI and tests.
 * Close is phased: stop accepting, drain in-flight work, flush writes, dispose plugins
 * last-set-up-first, close the store.
 */
export class Bridge {
  readonly settings: BridgeSettings;
  readonly hooks: BridgeHooks = createHooks();
  readonly counters = new Counters();
  readonly log: CoreLogger;
  readonly registry = new SessionRegistry();
  /** The live event stream (diagnostics_channel), for the debug channel, dashboards and profilers. */
  readonly events = new EventBus();
  private phase: Phase = 'created';
  private storeRef: Store | undefined;
  private readonly ownsStore: boolean;
  readonly approvals: ApprovalCache;
  private readonly plugins: PluginHost;
  private readonly dispatcher: Dispatcher<MessageJob>;
  private readonly sequencer: ReplySequencer<OutgoingReply>;
  private readonly outbound: Outbound;
  private readonly chatLogWriter: BatchWriter<ChatLogRow>;
  private readonly pingWriter: BatchWriter<PingRow>;
  private readonly listener: TcpListener;
  private readonly sessions = new Set<ClientSession>();
  private readonly proactiveTraces = new TraceIds();
  private saturated = false;
  private boundAddress: { host: string; port: number } | null = null;

  constructor(options: CreateBridgeOptions = {}) {
    const { settings, plugins } = resolveConfig(options.config ?? {});
    this.settings = settings;
    this.log = options.logger ?? createLogger(settings.log);
    this.storeRef = options.store;
    this.ownsStore = options.store === undefined;
    const { counters, log, hooks, registry, events } = this;
    const p = settings.pipeline;
    this.approvals = new ApprovalCache({
      store: () => this.store,
      log,
      autoApprove: settings.approval.autoApprove,
      refreshIntervalMs: settings.approval.refreshIntervalMs,
      onDeviceChange: (botName, deviceId, status) => this.deviceChanged(botName, deviceId, status),
    });

    this.outbound = new Outbound({ registry, codec: v32Codec, hooks, counters, log, settings, events });
    this.sequencer = new ReplySequencer<OutgoingReply>({
      holdMs: p.replyHoldMs,
      gapMs: p.replyGapMs,
      send: (out) => void this.outbound.deliver(out),
      isOrdered: (roomKey) => this.roomOverride(roomKey)?.ordered ?? true,
      onSendError: (_out, error) => log.error({ err: reasonOf(error) }, 'reply send failed'),
    });
    this.dispatcher = new Dispatcher<MessageJob>({
      concurrency: p.concurrency,
      roomConcurrency: (botName, roomKey) =>
        p.rooms[`${botName}/${roomKey}`]?.concurrency ?? this.approvals.roomApproval(botName, roomKey)?.concurrency ?? undefined,
      capacity: p.queueCapacity,
      processingTimeoutMs: p.processingTimeoutMs,
      worker: createMessageWorker({
        settings,
        approvals: this.approvals,
        hooks,
        sequencer: this.sequencer,
        outbound: this.outbound,
        counters,
        log,
        events,
      }),
      onSaturated: () => this.setSaturated(true),
      onUnsaturated: () => this.setSaturated(false),
      onTimeout: (job) => {
        // The worker may still hang (e.g. in the store); later messages of the room must not wait for it.
        this.sequencer.finish(job.ticket);
        counters.inc('jobs', 'timed_out');
        log.warn({ botName: job.botName, room: job.message.room, traceId: job.message.traceId, code: 'BRIDGE_ERR_PROCESSING_TIMEOUT' }, 'message processing timed out');
      },
      onError: (job, error) => {
        counters.inc('jobs', 'failed');
        log.error({ botName: job.botName, traceId: job.message.traceId, err: reasonOf(error) }, 'message job failed');
      },
    });
    const writerBase = { limit: settings.store.writeBufferLimit, flushDelayMs: 50, retryDelayMs: 1_000, counters, log };
    this.chatLogWriter = new BatchWriter<ChatLogRow>({
      ...writerBase,
      name: 'chat_log',
      batchSize: settings.store.chatLogBatchSize,
      write: (rows) => this.store.insertChatLogs(rows),
    });
    this.pingWriter = new BatchWriter<PingRow>({ ...writerBase, name: 'ping', batchSize: 200, write: (rows) => this.store.insertPings(rows) });

    const sessionDeps: SessionDeps = {
      settings,
      codec: v32Codec,
      approvals: this.approvals,
      registry,
      hooks,
      events,
      auth: new AuthGuard(settings.auth),
      counters,
      log,
      serverVersion: SERVER_VERSION,
      admission: new Admission({
        settings,
        dedup: new Deduplicator({ windowMs: p.dedupWindowMs, legacyTwinWindowMs: p.legacyTwinWindowMs, maxEntries: 200_000 }),
        dispatcher: this.dispatcher,
        sequencer: this.sequencer,
        counters,
        log,
        events,
      }),
      pings: new PingRecorder({ hooks, counters, events, writer: this.pingWriter }),
      onReady: (session) => {
        session.conn.markHandshaken();
        if (this.saturated) session.conn.pauseReading('queue');
      },
      onClosed: (session, wasReady, reason) => this.sessionClosed(session, wasReady, reason),
    };
    this.listener = new TcpListener({
      maxConnections: settings.limits.maxConnections,
      maxHandshaking: settings.limits.maxHandshakingConnections,
      connection: {
        lineLimit: settings.limits.maxHandshakeLineBytes,
        json: { maxDepth: settings.limits.maxJsonDepth, maxKeys: settings.limits.maxJsonKeys },
        maxPendingOutputBytes: settings.limits.maxPendingOutputBytes,
      },
      onConnection: (conn) => {
        const session = new ClientSession(conn, sessionDeps);
        this.sessions.add(session);
        counters.inc('connections', 'accepted');
        if (events.active('connection:open')) {
          events.emit('connection:open', { connectionId: conn.id, remoteAddress: conn.remoteAddress, remotePort: conn.remotePort, at: eventTime() });
        }
        if (this.hooks.onConnect.isUsed()) {
          this.hooks.onConnect.call({ connectionId: conn.id, remoteAddress: conn.remoteAddress, remotePort: conn.remotePort, connectedAt: conn.connectedAt });
        }
      },
      onRefused: ({ code, limit, remoteAddress }) => {
        counters.inc('connections', code === 'BRIDGE_ERR_CONNECTION_LIMIT' ? 'refused_cap' : 'refused_handshake_cap');
        log.warn({ code, limit, remote: remoteAddress }, 'connection refused');
      },
      onError: (error) => log.error({ err: reasonOf(error) }, 'listener error'),
    });
    this.plugins = new PluginHost(plugins, {
      hooks,
      bridge: this.api(),
      log,
      settings: settings.pluginHost,
      events,
      report: (event, error) => {
        counters.inc('plugin_errors', `${event.plugin}:${event.hook}`);
        log.error({ plugin: event.plugin, hook: event.hook, code: event.code, traceId: event.traceId, err: reasonOf(error) }, event.message);
        if (hooks.onPluginError.isUsed()) hooks.onPluginError.call(event);
        if (events.active('plugin:error')) {
          events.emit('plugin:error', { plugin: event.plugin, hook: event.hook, code: event.code, message: event.message, traceId: event.traceId ?? null, at: eventTime() });
        }
      },
    });
  }

  get store(): Store {
    if (!this.storeRef) throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: 'the bridge has not started' });
    return this.storeRef;
  }

  get address(): { host: string; port: number } | null {
    return this.boundAddress;
  }

  /** Opens the store, sets plugins up, then accepts connections. */
  async start(): Promise<{ host: string; port: number }> {
    if (this.phase !== 'created') throw new BridgeError('BRIDGE_ERR_ALREADY_STARTED', { state: this.phase });
    this.phase = 'starting';
    try {
      this.storeRef ??= await openStore(this.settings.store.url);
      await this.approvals.load();
      this.approvals.start();
      await this.plugins.setup();
      await this.hooks.onStart.promise();
      this.boundAddress = await this.listener.listen(this.settings.listen.host, this.settings.listen.port);
    } catch (error) {
      await this.shutdownParts();
      this.phase = 'closed';
      throw error;
    }
    this.phase = 'running';
    if (this.settings.approval.autoApprove) {
      this.log.warn('AUTO-APPROVE IS ON: every new device and room is approved on first contact. Never use this in production.');
    }
    this.log.info({ ...this.boundAddress, store: this.store.description, plugins: this.plugins.list().map((p) => p.name) }, 'botbridge listening');
    return this.boundAddress;
  }

  /** Phased close; safe to call twice. */
  async close(): Promise<void> {
    if (this.phase === 'closed' || this.phase === 'closing') return;
    const wasRunning = this.phase === 'running';
    this.phase = 'closing';
    await this.listener.stopAccepting();
    if (wasRunning) {
      const { abandoned } = await this.dispatcher.close({ graceMs: this.settings.shutdown.graceMs });
      for (const job of abandoned) this.sequencer.finish(job.ticket);
      if (abandoned.length > 0) {
        this.counters.inc('jobs', 'abandoned_at_shutdown', abandoned.length);
        this.log.error({ count: abandoned.length, traceIds: abandoned.slice(0, 20).map((j) => j.message.traceId) }, 'messages not processed before shutdown');
      }
      await this.sequencer.drain({ immediate: true });
      await Promise.all([...this.sessions].map((s) => s.conn.flush(2_000)));
    }
    for (const session of this.sessions) session.close('BRIDGE_ERR_SHUTDOWN');
    await this.hooks.onClose.promise().catch((error: unknown) => this.log.error({ err: reasonOf(error) }, 'onClose failed'));
    await this.shutdownParts();
    this.phase = 'closed';
    this.log.info('botbridge closed');
  }

  clients(): ClientInfo[] {
    const out: ClientInfo[] = [];
    for (const session of this.registry.all()) out.push(session.info());
    return out;
  }

  pluginStates(): PluginState[] {
    return this.plugins.list();
  }

  stats() {
    return {
      phase: this.phase,
      connections: this.sessions.size,
      clients: this.registry.size,
      saturated: this.saturated,
      dispatcher: this.dispatcher.stats(),
      writers: { chatLog: this.chatLogWriter.pending, ping: this.pingWriter.pending },
      counters: this.counters.snapshot(),
    };
  }

  /** Proactive send to a room (admin API, schedulers): passes beforeReply like any reply. */
  async send(target: ReplyTarget, reply: Reply | string): Promise<SendResult> {
    const body: Reply = typeof reply === 'string' ? { kind: 'text', text: reply } : reply;
    let out: OutgoingReply | null = { reply: body, target, message: null, traceId: this.proactiveTraces.next(), index: 0 };
    if (this.hooks.beforeReply.isUsed()) out = await this.hooks.beforeReply.promise(out);
    if (out === null) return { ok: false, error: 'dropped-by-plugin' };
    try {
      this.outbound.validate(out.reply);
    } catch (error) {
      return { ok: false, error: reasonOf(error) };
    }
    const sent = this.outbound.deliver(out);
    return sent.ok ? { ok: true } : { ok: false, error: sent.error ?? 'not-sent' };
  }

  private api(): BridgeApi {
    return {
      clients: () => this.clients(),
      reloadApprovals: () => this.approvals.reload(),
      send: (target, reply) => this.send(target, reply),
      appendChatLog: (entry) => this.chatLogWriter.push(toChatLogRow(entry)),
    };
  }

  private roomOverride(roomKey: string) {
    // The sequencer's room key is `<botName>\0<roomId>`; overrides are keyed `<botName>/<roomId>`.
    return this.settings.pipeline.rooms[roomKey.replace('\u0000', '/')];
  }

  private setSaturated(saturated: boolean): void {
    this.saturated = saturated;
    this.counters.inc('queue_saturation', saturated ? 'paused' : 'resumed');
    this.log.warn({ queued: this.dispatcher.length() }, saturated ? 'queue full: pausing reads' : 'queue drained: resuming reads');
    for (const session of this.sessions) {
      if (!session.isReady) continue;
      if (saturated) session.conn.pauseReading('queue');
      else session.conn.resumeReading('queue');
    }
  }

  private deviceChanged(botName: string, deviceId: string, status: string): void {
    const session = this.registry.get(botName, deviceId);
    if (!session) return;
    this.log.info({ botName, deviceId, status }, 'device approval changed');
    if (isRefusedStatus(status as never)) session.close('BRIDGE_ERR_DEVICE_REFUSED', `${botName}/${deviceId} is ${status}`);
  }

  private sessionClosed(session: ClientSession, wasReady: boolean, reason: string): void {
    this.sessions.delete(session);
    this.counters.inc('disconnects', reason);
    if (this.events.active('connection:close')) {
      this.events.emit('connection:close', {
        connectionId: session.conn.id,
        botName: wasReady ? session.botName : null,
        deviceId: wasReady ? session.deviceId : null,
        reason,
        at: eventTime(),
      });
    }
    if (!wasReady) return;
    this.registry.remove(session);
    this.log.info({ botName: session.botName, deviceId: session.deviceId, reason }, 'client disconnected');
    if (this.hooks.onDisconnect.isUsed()) this.hooks.onDisconnect.call(session.info(), reason);
  }

  private async shutdownParts(): Promise<void> {
    await this.plugins.teardown();
    this.approvals.stop();
    await Promise.all([this.chatLogWriter.close(), this.pingWriter.close()]).catch(() => undefined);
    if (this.ownsStore && this.storeRef) await this.storeRef.close().catch(() => undefined);
  }
}

/** Creates a bridge (not yet started). */
export function createBridge(options: CreateBridgeOptions = {}): Bridge {
  return new Bridge(options);
}
