import type { FastifyInstance } from 'fastify';
import type { Bridge } from '../bridge.js';
import { sendError } from './http-errors.js';

/**
 * Routes that keep answering while the bridge drains: the probes (`/ready` says 503 itself,
 * `/health` says `closing`) and `/metrics`, so operators can watch the drain.
 */
const SERVED_WHILE_CLOSING: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/**
 * While the bridge closes, the admin server keeps listening (it closes after the bridge) and
 * answers every other request, the debug channel's upgrade included, with 503, a JSON error
 * body and `Retry-After` (the drain bound: by then this process is gone and a restarted one is
 * coming up), instead of refusing connections. Runs before authentication: that the server is
 * shutting down is no secret, and a client should not retry its token against it.
 */
export function installClosingGate(app: FastifyInstance, bridge: Bridge): void {
  const { graceMs, flushMs } = bridge.settings.shutdown;
  const retryAfterSec = Math.max(1, Math.ceil((graceMs + 2 * flushMs) / 1_000));
  app.addHook('onRequest', async (request, reply) => {
    const phase = bridge.admin.phase;
    if (phase !== 'closing' && phase !== 'closed') return;
    if (SERVED_WHILE_CLOSING.has(request.url.split('?')[0]!)) return;
    return sendError(reply.header('retry-after', String(retryAfterSec)), 503, 'BRIDGE_ERR_SHUTTING_DOWN', { retryAfterSec });
  });
}
