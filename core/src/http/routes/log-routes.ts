import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LEVELS, type LogTail } from '../../log-tail.js';
import { sendError } from '../http-errors.js';
import { jsonSchema } from '../route-schemas.js';

const LogQuery = z.strictObject({
  level: z.enum(Object.keys(LEVELS) as [string, ...string[]]).default('warn'),
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});

const LogLineDto = z.object({
  seq: z.number(),
  level: z.string(),
  time: z.number(),
  msg: z.string(),
  fields: z.record(z.string(), z.unknown()),
});

/**
 * GET /api/logs: the recent log lines the bridge's logger kept in memory (log-tail.ts), already
 * redacted, at `level` and above, after the `seq` a client saw last. 404 when the bridge's
 * logger was not made by createLogger (an embedding program's own pino).
 */
export function registerLogRoutes(app: FastifyInstance, tail: LogTail | null): void {
  app.get<{ Querystring: z.infer<typeof LogQuery> }>('/api/logs', {
    schema: { querystring: jsonSchema(LogQuery), response: { 200: { type: 'array', items: jsonSchema(LogLineDto, 'output') } } },
  }, async (request, reply) => {
    if (tail === null) return sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: 'log tail (the bridge logger was not made by createLogger)' });
    return tail.read(request.query);
  });
}
