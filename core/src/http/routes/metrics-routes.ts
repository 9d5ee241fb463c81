import type { FastifyInstance } from 'fastify';
import { Empty, jsonSchema } from '../route-schemas.js';
import type { RouteDeps } from './route-deps.js';

/** GET /metrics in the Prometheus text format; a scraper sends the token as a bearer credential. */
export function registerMetricsRoutes(app: FastifyInstance, { metrics }: RouteDeps): void {
  if (metrics === null) return;
  app.get('/metrics', { schema: { querystring: jsonSchema(Empty) } }, async (_request, reply) => {
    const text = await metrics.scrape();
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
