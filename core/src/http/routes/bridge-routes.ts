import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { SERVER_VERSION } from '../../version.js';
import { sendError } from '../http-errors.js';
import {
  BanDto,
  ClientDto,
  LiftBanBody,
  Lifted,
  ClientParams,
  Disconnected,
  Empty,
  ErrorReply,
  InjectBody,
  InjectReply,
  jsonSchema,
  PluginDto,
  SendBody,
  SendReply,
  StatsDto,
} from '../route-schemas.js';
import type { RouteDeps } from './route-deps.js';

const list = <T extends z.ZodType>(item: T) => ({ type: 'array', items: jsonSchema(item, 'output') });

/** Live state and actions on the running bridge: clients, queue stats, plugins, sends. */
export function registerBridgeRoutes(app: FastifyInstance, { bridge, log }: RouteDeps): void {
  app.get('/api/clients', {
    schema: { querystring: jsonSchema(Empty), response: { 200: list(ClientDto) } },
  }, async () => bridge.admin.fleetClients());

  app.post<{ Params: z.infer<typeof ClientParams> }>('/api/clients/:bot/:device/disconnect', {
    schema: { params: jsonSchema(ClientParams), body: jsonSchema(Empty), response: { 200: jsonSchema(Disconnected, 'output'), 404: jsonSchema(ErrorReply, 'output') } },
  }, async (request, reply) => {
    const { bot, device } = request.params;
    if (!(await bridge.admin.disconnectAnywhere(bot, device))) return sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: `client ${bot}/${device}` });
    log.info({ botName: bot, deviceId: device, remote: request.ip }, 'client disconnected through the admin API');
    return { disconnected: true as const };
  });

  app.get('/api/bans', {
    schema: { querystring: jsonSchema(Empty), response: { 200: list(BanDto) } },
  }, async () => bridge.admin.bans());

  app.post<{ Body: z.infer<typeof LiftBanBody> }>('/api/bans/lift', {
    schema: { body: jsonSchema(LiftBanBody), response: { 200: jsonSchema(Lifted, 'output'), 404: jsonSchema(ErrorReply, 'output') } },
  }, async (request, reply) => {
    const { kind, subject } = request.body;
    if (!bridge.admin.liftBan(kind, subject)) return sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: `${kind} ban ${subject}` });
    log.info({ kind, subject, remote: request.ip }, 'ban lifted through the admin API');
    return { lifted: true as const };
  });

  app.get('/api/stats', {
    schema: { querystring: jsonSchema(Empty), response: { 200: jsonSchema(StatsDto, 'output') } },
  }, async () => {
    const stats = bridge.admin.stats();
    return {
      version: SERVER_VERSION,
      phase: stats.phase,
      uptimeMs: Math.round(process.uptime() * 1_000),
      listen: bridge.address,
      connections: stats.connections,
      clients: stats.clients,
      saturated: stats.saturated,
      dispatcher: stats.dispatcher,
      writers: stats.writers,
      outbox: stats.outbox,
      counters: stats.counters,
    };
  });

  app.get('/api/plugins', {
    schema: { querystring: jsonSchema(Empty), response: { 200: list(PluginDto) } },
  }, async () => bridge.admin.pluginStates());

  app.post<{ Body: z.infer<typeof SendBody> }>('/api/send', {
    schema: { body: jsonSchema(SendBody), response: { 200: jsonSchema(SendReply, 'output') } },
  }, async (request) => {
    const { botName, room, channelId, deviceId, text } = request.body;
    log.info({ botName, room, remote: request.ip }, 'proactive send through the admin API');
    return bridge.admin.send({ botName, room, channelId: channelId ?? null, deviceId: deviceId ?? null }, text);
  });

  app.post<{ Body: z.infer<typeof InjectBody> }>('/api/inject', {
    schema: { body: jsonSchema(InjectBody), response: { 200: jsonSchema(InjectReply, 'output') } },
  }, async (request) => {
    log.info({ botName: request.body.botName, deviceId: request.body.deviceId, room: request.body.room, remote: request.ip }, 'sandbox message injected');
    return bridge.admin.inject(request.body);
  });
}
