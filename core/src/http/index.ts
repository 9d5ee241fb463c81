/**
 * `@botbridge/core/http`: the admin HTTP server and the Prometheus view of a bridge, for
 * programs that embed the bridge (`botbridge start` runs them itself). A subpath of its own, so
 * that importing the core does not load fastify.
 */
export { createAdminServer, isLoopback } from './admin-server.js';
export type { AdminAddress, AdminServer, AdminServerOptions, HttpSettings, RouteEntry } from './admin-server.js';
export { createBridgeMetrics } from '../metrics/prometheus.js';
export type { BridgeMetrics } from '../metrics/prometheus.js';
