import type { Bridge } from '../../bridge.js';
import type { CoreLogger } from '../../logger.js';
import type { BridgeMetrics } from '../../metrics/prometheus.js';
import type { AuthOptions } from '../request-auth.js';

/** What the route modules need: the bridge they steer and the server's own parts. */
export interface RouteDeps {
  readonly bridge: Bridge;
  readonly log: CoreLogger;
  readonly auth: AuthOptions;
  /** Null when `http.metrics` is off (GET /metrics is then not registered). */
  readonly metrics: BridgeMetrics | null;
}
