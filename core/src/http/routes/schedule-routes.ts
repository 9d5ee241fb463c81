import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { sendError } from '../http-errors.js';
import { ErrorReply, jsonSchema } from '../route-schemas.js';
import type { RouteDeps } from './route-deps.js';

/**
 * What these routes need of the scheduler plugin's `schedules` service
 * (plugins/scheduler/src/service.ts). Written here structurally: the core does not import
 * plugins. Inputs are validated by the plugin (a refusal carries statusCode 400 and the issues).
 */
interface SchedulesApi {
  list(filter?: { botName?: string; status?: string }): Promise<unknown[]>;
  get(id: number): Promise<unknown>;
  create(input: unknown): Promise<unknown>;
  update(id: number, patch: unknown): Promise<unknown>;
  pause(id: number): Promise<unknown>;
  resume(id: number): Promise<unknown>;
  remove(id: number): Promise<boolean>;
  logs(id: number, limit?: number): Promise<unknown[]>;
  runDue(): Promise<unknown>;
}

const IdParams = z.strictObject({ id: z.string().regex(/^\d{1,10}$/) });
const ActionParams = z.strictObject({ id: z.string().regex(/^\d{1,10}$/), action: z.enum(['pause', 'resume']) });
const ListQuery = z.strictObject({ bot: z.string().min(1).max(100).optional(), status: z.enum(['active', 'inactive', 'completed', 'error']).optional() });
const LogsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).optional() });
const AnyObject = { type: 'object' } as const;
const errors = { 404: jsonSchema(ErrorReply, 'output') };

/**
 * `/api/schedules`: the scheduler plugin's kb_schedule rows (list, create, change, pause,
 * resume, delete, their kb_schedule_logs, run the due ones now), behind the admin token like
 * every /api route. 404 when the scheduler plugin is not enabled.
 */
export function registerScheduleRoutes(app: FastifyInstance, { bridge, log }: RouteDeps): void {
  const schedules = (reply: FastifyReply): SchedulesApi | undefined => {
    const service = bridge.admin.service('schedules') as SchedulesApi | undefined;
    if (service === undefined) sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: 'the scheduler plugin (not enabled)' });
    return service;
  };
  const notFound = (reply: FastifyReply, id: string) => sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: `schedule ${id}` });

  app.get<{ Querystring: z.infer<typeof ListQuery> }>('/api/schedules', { schema: { querystring: jsonSchema(ListQuery), response: errors } }, async (request, reply) => {
    const s = schedules(reply);
    if (s === undefined) return reply;
    const { bot, status } = request.query;
    return s.list({ ...(bot !== undefined ? { botName: bot } : {}), ...(status !== undefined ? { status } : {}) });
  });

  app.post<{ Body: Record<string, unknown> }>('/api/schedules', { schema: { body: AnyObject, response: errors } }, async (request, reply) => {
    const s = schedules(reply);
    if (s === undefined) return reply;
    const created = (await s.create(request.body)) as { id: number };
    log.info({ scheduleId: created.id, remote: request.ip }, 'schedule created through the admin API');
    return reply.code(201).send(created);
  });

  app.post('/api/schedules/run', { schema: { response: errors } }, async (_request, reply) => {
    const s = schedules(reply);
    if (s === undefined) return reply;
    return s.runDue();
  });

  app.get<{ Params: z.infer<typeof IdParams> }>('/api/schedules/:id', { schema: { params: jsonSchema(IdParams), response: errors } }, async (request, reply) => {
    const s = schedules(reply);
    if (s === undefined) return reply;
    const found = await s.get(Number(request.params.id));
    return found === undefined ? notFound(reply, request.params.id) : found;
  });

  app.get<{ Params: z.infer<typeof IdParams>; Querystring: z.infer<typeof LogsQuery> }>('/api/schedules/:id/logs', {
    schema: { params: jsonSchema(IdParams), querystring: jsonSchema(LogsQuery), response: errors },
  }, async (request, reply) => {
    const s = schedules(reply);
    if (s === undefined) return reply;
    return s.logs(Number(request.params.id), request.query.limit);
  });

  app.patch<{ Params: z.infer<typeof IdParams>; Body: Record<string, unknown> }>('/api/schedules/:id', {
    schema: { params: jsonSchema(IdParams), body: AnyObject, response: errors },
  }, async (request, reply) => {
    const s = schedules(reply);
    if (s === undefined) return reply;
    const updated = await s.update(Number(request.params.id), request.body);
    if (updated === undefined) return notFound(reply, request.params.id);
    log.info({ scheduleId: Number(request.params.id), remote: request.ip }, 'schedule changed through the admin API');
    return updated;
  });

  app.post<{ Params: z.infer<typeof ActionParams> }>('/api/schedules/:id/:action', {
    schema: { params: jsonSchema(ActionParams), response: errors },
  }, async (request, reply) => {
    const s = schedules(reply);
    if (s === undefined) return reply;
    const id = Number(request.params.id);
    const changed = request.params.action === 'pause' ? await s.pause(id) : await s.resume(id);
    if (changed === undefined) return notFound(reply, request.params.id);
    log.info({ scheduleId: id, action: request.params.action, remote: request.ip }, 'schedule changed through the admin API');
    return changed;
  });

  app.delete<{ Params: z.infer<typeof IdParams> }>('/api/schedules/:id', { schema: { params: jsonSchema(IdParams), response: errors } }, async (request, reply) => {
    const s = schedules(reply);
    if (s === undefined) return reply;
    if (!(await s.remove(Number(request.params.id)))) return notFound(reply, request.params.id);
    log.info({ scheduleId: Number(request.params.id), remote: request.ip }, 'schedule deleted through the admin API');
    return reply.code(204).send();
  });
}
