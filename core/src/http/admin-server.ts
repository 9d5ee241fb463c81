import { isIP } from 'node:net';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { BridgeSettings } from '@botbridge/sdk';
import type { Bridge } from '../bridge.js';
import { BridgeError, reasonOf } from '../errors.js';
import { logTailOf } from '../log-tail.js';
import type { CoreLogger } from '../logger.js';
import { createBridgeMetrics, type BridgeMetrics } from '../metrics/prometheus.js';
import { AdminToken, type TokenSource } from './admin-token.js';
import { AuthFailureLimiter } from './auth-failures.js';
import { createFastify, websocketOptions } from './fastify-app.js';
import { installClosingGate } from './closing-gate.js';
import { installErrorHandling } from './http-errors.js';
import { installAuth, type AuthOptions, type RouteAuth } from './request-auth.js';
import { IntegrationTokens } from './push/integration-tokens.js';
import { registerPushRoutes } from './push/push-routes.js';
import { registerApprovalRoutes } from './routes/approval-routes.js';
import { registerBridgeRoutes } from './routes/bridge-routes.js';
import { loginPage, registerDashboardRoutes } from './routes/dashboard-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerLogRoutes } from './routes/log-routes.js';
import { registerMetricsRoutes } from './routes/metrics-routes.js';
import { registerReloadRoutes } from './routes/reload-routes.js';
import { registerScheduleRoutes } from './routes/schedule-routes.js';
import type { RouteDeps } from './routes/route-deps.js';
import { registerDebugChannel } from './ws/debug-channel.js';
import { EventHub } from './ws/event-hub.js';

export type HttpSettings = BridgeSettings['http'];

export interface AdminServerOptions {
  readonly bridge: Bridge;
  /** Overrides of `bridge.settings.http` (tests, programs embedding the bridge). */
  readonly http?: Partial<HttpSettings>;
  readonly log?: CoreLogger;
}

export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly auth: RouteAuth;
  readonly websocket: boolean;
}

export interface AdminAddress {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** The dashboard's URL; it carries a generated token in its fragment (never a configured one). */
  readonly dashboardUrl: string;
}

export interface AdminServer {
  /** The fastify instance (`app.inject` in tests). */
  readonly app: FastifyInstance;
  /** Every route registered (HEAD twins of GET routes included), for the auth test and docs. */
  readonly routes: readonly RouteEntry[];
  readonly tokenSource: TokenSource;
  listen(): Promise<AdminAddress>;
  /** Closes debug clients and the server, then removes the core's metrics. Idempotent. */
  close(): Promise<void>;
}

/** 127.0.0.0/8, ::1 and localhost: the only binds allowed without a configured token. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(host) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(host);
}

/**
 * The admin HTTP server (fastify) beside the bridge: health probes, /metrics, the admin API,
 * the WebSocket debug channel and the dashboard. It steers the bridge only through its admin
 * facade (`bridge.admin`), its event stream (`bridge.events`) and its metrics registry. Refuses to be built for a non-loopback address without a configured token.
 */
export async function createAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { bridge } = options;
  const settings: HttpSettings = { ...bridge.settings.http, ...options.http };
  if (settings.adminToken === undefined && !isLoopback(settings.host)) {
    throw new BridgeError('BRIDGE_ERR_HTTP_NO_TOKEN', { host: settings.host });
  }
  const log = options.log ?? bridge.log.child({ component: 'http' });
  const token = AdminToken.resolve(settings.adminToken);
  const auth: AuthOptions = {
    token,
    limiter: new AuthFailureLimiter({ limit: settings.authFailureLimit, windowMs: settings.authFailureWindowMs }),
    allowedOrigins: settings.allowedOrigins,
    log,
    countFailure: (reason) => bridge.admin.countAuthFailure(reason),
    loginPage: loginPage(),
    integrations: IntegrationTokens.resolve(settings.integrations, (candidate) => token.matches(candidate)),
  };
  const metrics: BridgeMetrics | null = settings.metrics ? createBridgeMetrics(bridge) : null;
  // The dashboard shows the log tail to whoever holds the token: the token itself (printed in
  // the dashboard URL when it was generated) is scrubbed from it all the same.
  const logTail = logTailOf(bridge.log);
  const forgetToken = logTail?.addSecret(token.reveal());
  const hub = new EventHub(bridge, settings.statsIntervalMs);
  const routes: RouteEntry[] = [];
  const app = createFastify(settings, log);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const routeAuth = route.config?.auth ?? 'token';
    for (const method of methods) routes.push({ method, url: route.url, auth: routeAuth, websocket: route.websocket === true });
  });
  installErrorHandling(app, log);
  installClosingGate(app, bridge);
  installAuth(app, auth);
  try {
    await app.register(websocket, websocketOptions(app, settings, log));
    const deps: RouteDeps = { bridge, log, auth, metrics };
    registerHealthRoutes(app, deps);
    registerMetricsRoutes(app, deps);
    registerBridgeRoutes(app, deps);
    registerPushRoutes(app, deps, settings.idempotency);
    registerApprovalRoutes(app, deps);
    registerReloadRoutes(app, deps);
    registerLogRoutes(app, logTail);
    registerScheduleRoutes(app, deps);
    registerDebugChannel(app, { bridge, hub, log, maxClients: settings.wsMaxClients, maxBufferedBytes: settings.wsMaxBufferedBytes, maxMessagesPerSecond: settings.wsMaxMessagesPerSecond });
    registerDashboardRoutes(app, deps);
    await app.ready();
  } catch (error) {
    forgetToken?.();
    metrics?.close();
    await app.close().catch(() => undefined);
    throw error;
  }

  let closed = false;
  return {
    app,
    routes,
    tokenSource: token.source,
    async listen() {
      try {
        await app.listen({ host: settings.host, port: settings.port });
      } catch (error) {
        throw new BridgeError('BRIDGE_ERR_HTTP_LISTEN', { host: settings.host, port: settings.port, reason: reasonOf(error) }, { cause: error });
      }
      const bound = app.server.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : settings.port;
      const url = `http://${isIP(settings.host) === 6 ? `[${settings.host}]` : settings.host}:${port}`;
      const dashboardUrl = token.source === 'generated' ? `${url}/#token=${encodeURIComponent(token.reveal())}` : `${url}/`;
      return { host: settings.host, port, url, dashboardUrl };
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      hub.close();
      metrics?.close();
      forgetToken?.();
    },
  };
}
