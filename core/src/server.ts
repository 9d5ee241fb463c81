import type { BridgeConfig, BridgeSettings } from '@botbridge/sdk';
import { createBridge, type Bridge } from './bridge.js';
import { resolveNodeId } from './cluster/node-id.js';
import { loadBridgeConfig, resolveConfig } from './config/load-config.js';
import { createAdminServer, type AdminAddress, type AdminServer } from './http/admin-server.js';
import { createLogger, type CoreLogger } from './logger.js';
import { packageManagerParent, runUntilStopped } from './stop-signals.js';

export interface RunServerOptions {
  readonly configFile?: string;
  readonly port?: number;
  readonly storeUrl?: string;
  readonly autoApprove?: boolean;
  /** Overrides http.port. */
  readonly httpPort?: number;
  /** false: no admin HTTP server (overrides http.enabled). */
  readonly http?: boolean;
  /** Overrides cluster.url (`--cluster`): joins a cluster through this NATS server. */
  readonly clusterUrl?: string;
  /** Overrides cluster.nodeId (`--node-id`). */
  readonly nodeId?: string;
}

/** A started `botbridge start` server: the bridge, its admin HTTP server, and one graceful stop. */
export interface StartedServer {
  readonly bridge: Bridge;
  /** Where the admin HTTP server listens (null when `http.enabled` is false). */
  readonly http: AdminAddress | null;
  readonly log: CoreLogger;
  /**
   * The bridge first (it drains: see Bridge.close), then the admin server, which answers 503
   * (probes and /metrics excepted) meanwhile and has told its debug clients that it is closing.
   */
  stop(): Promise<void>;
}

/**
 * What `botbridge start` runs, without the signal handling: loads bridge.config.ts, applies the
 * command-line overrides, builds the bridge and (when enabled) its admin HTTP server, starts
 * both. The benchmark starts botbridge through this too, so it measures what operators run.
 */
export async function startServer(options: RunServerOptions = {}): Promise<StartedServer> {
  const loaded = await loadBridgeConfig(options.configFile);
  const s = loaded.settings;
  const config: BridgeConfig = {
    ...s,
    listen: { ...s.listen, port: options.port ?? s.listen.port },
    store: { ...s.store, url: options.storeUrl ?? (process.env.BOTBRIDGE_STORE || s.store.url) },
    approval: { ...s.approval, autoApprove: options.autoApprove === true || s.approval.autoApprove },
    http: {
      ...s.http,
      enabled: options.http === false ? false : s.http.enabled,
      port: options.httpPort ?? s.http.port,
      adminToken: process.env.BOTBRIDGE_ADMIN_TOKEN || s.http.adminToken,
    },
    plugins: loaded.plugins,
  };
  const cluster = clusterSettings(s.cluster, options);
  if (cluster) (config as { cluster?: unknown }).cluster = cluster;
  // Cluster mode: every log line names its node.
  const log = createLogger(s.log, undefined, cluster ? { node: cluster.nodeId } : {});
  log.info({ config: loaded.file ?? '(defaults)' }, 'starting botbridge');
  const bridge = createBridge({ config, logger: log });
  // Built before the bridge starts: a non-loopback bind without a token fails before the store opens.
  const admin = bridge.settings.http.enabled ? await createAdminServer({ bridge }) : null;
  let http: AdminAddress | null = null;
  try {
    await bridge.start();
    if (admin) {
      http = await announce(admin, log);
      bridge.adminUrl = http.url;
    }
  } catch (error) {
    await admin?.close();
    await bridge.close();
    throw error;
  }
  return {
    bridge,
    http,
    log,
    stop: async () => {
      try {
        await bridge.close();
      } finally {
        await admin?.close();
      }
    },
  };
}

/**
 * The cluster section after the command-line overrides, with the node id resolved once (the
 * logger, the metrics and the cluster module must name the same node). Undefined: single node.
 */
function clusterSettings(section: BridgeSettings['cluster'], options: RunServerOptions): (NonNullable<BridgeSettings['cluster']> & { nodeId: string }) | undefined {
  const url = options.clusterUrl ?? section?.url;
  if (url === undefined) return undefined;
  const base = section ?? resolveConfig({ cluster: { url } }).settings.cluster!;
  return { ...base, url, nodeId: resolveNodeId(options.nodeId ?? base.nodeId) };
}

/**
 * `botbridge start`: startServer, then runs until SIGTERM/SIGINT (or, when npm started it, until
 * its parent is gone) and closes gracefully (stop reading, drain, flush, close the store; see
 * stop-signals.ts). Resolves with the process exit code.
 */
export async function runServer(options: RunServerOptions = {}): Promise<number> {
  const { log, stop } = await startServer(options);
  return runUntilStopped({ log, stop, parentPid: packageManagerParent() });
}

/**
 * Logs where the dashboard is. A generated token exists only in this process and is printed
 * here once, inside the dashboard URL's fragment (browsers never send fragments to servers): it
 * is the operator's only way in. A configured token is never printed.
 */
async function announce(admin: AdminServer, log: CoreLogger): Promise<AdminAddress> {
  const address = await admin.listen();
  if (admin.tokenSource === 'generated') {
    log.warn(
      { url: address.url, dashboard: address.dashboardUrl },
      'admin HTTP server listening; no admin token configured, so this one-time token (valid until the process stops) is in the dashboard URL',
    );
  } else {
    log.info({ url: address.url, dashboard: address.dashboardUrl }, 'admin HTTP server listening; sign in with the configured admin token');
  }
  return address;
}
