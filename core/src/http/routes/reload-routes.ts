import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Empty, jsonSchema } from '../route-schemas.js';
import type { RouteDeps } from './route-deps.js';

/** The answer of POST /api/reload (`ReloadReport`), accepted or refused. */
export const ReloadReply = z.object({
  ok: z.boolean(),
  generation: z.number(),
  plugins: z.array(z.string()),
  restartRequired: z.array(z.string()),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  durationMs: z.number(),
});

/**
 * Hot reload (behind the admin token like every /api route): bridge.config.ts is read again and
 * the plugin set swapped without closing a connection. 200 when the new set serves; 422 when the
 * config or a plugin was refused (the old set serves on; `error` says why); 409 when the bridge
 * cannot reload (not running, or not started from a config file).
 */
export function registerReloadRoutes(app: FastifyInstance, { bridge, log }: RouteDeps): void {
  app.post('/api/reload', {
    schema: { body: jsonSchema(Empty), response: { 200: jsonSchema(ReloadReply, 'output'), 409: jsonSchema(ReloadReply, 'output'), 422: jsonSchema(ReloadReply, 'output') } },
  }, async (request, reply) => {
    log.info({ remote: request.ip }, 'reload requested through the admin API');
    const report = await bridge.admin.reload();
    if (report.ok) return report;
    return reply.code(report.error?.code === 'BRIDGE_ERR_RELOAD_UNAVAILABLE' ? 409 : 422).send(report);
  });
}
