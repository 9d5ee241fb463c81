import type { FastifyInstance } from 'fastify';
import { HealthDto, jsonSchema, ReadyDto } from '../route-schemas.js';
import type { RouteDeps } from './route-deps.js';

/** A store that does not answer within this is reported unreachable rather than hanging the probe. */
const STORE_PROBE_MS = 2_000;

/**
 * The only unauthenticated routes: liveness (the process answers; `closing` while the bridge
 * drains) and readiness (the store answers a round trip and the TCP listener is up; 503 with
 * `listener: 'closing'` while the bridge drains). They reveal nothing but those facts.
 */
export function registerHealthRoutes(app: FastifyInstance, { bridge }: RouteDeps): void {
  app.get('/health', {
    config: { auth: 'public' },
    schema: { response: { 200: jsonSchema(HealthDto, 'output') } },
    // 200 while closing too: the process is alive and draining; a liveness probe that failed
    // here would have it killed before the drain ends.
  }, async () => ({ status: closing(bridge.admin.phase) ? 'closing' as const : 'ok' as const }));

  app.get('/ready', {
    config: { auth: 'public' },
    schema: { response: { 200: jsonSchema(ReadyDto, 'output'), 503: jsonSchema(ReadyDto, 'output') } },
  }, async (_request, reply) => {
    const phase = bridge.admin.phase;
    const listener = phase === 'closing' ? 'closing' : bridge.address !== null && phase === 'running' ? 'up' : 'down';
    const store = await probeStore(() => bridge.admin.checkStore());
    const ready = listener === 'up' && store === 'ok';
    // Cluster mode: a lost NATS leaves the node ready (it serves its own phones) but degraded.
    const cluster = bridge.admin.clusterStatus();
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ ready, store, listener, ...(cluster ? { cluster } : {}) });
  });
}

function closing(phase: string): boolean {
  return phase === 'closing' || phase === 'closed';
}

async function probeStore(check: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STORE_PROBE_MS);
  });
  try {
    return await Promise.race([check().then(() => 'ok'), timeout]);
  } catch {
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}
