import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { DeviceRecord, RoomRecord } from '../../store/types.js';
import { sendError } from '../http-errors.js';
import {
  ACTION_STATUS,
  DeviceActionParams,
  DeviceDto,
  Empty,
  ErrorReply,
  jsonSchema,
  ListQuery,
  ReasonBody,
  ReloadReply,
  RoomActionParams,
  RoomDto,
  StatusChanged,
} from '../route-schemas.js';
import type { RouteDeps } from './route-deps.js';

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/**
 * Devices and rooms with their approval, and the verbs that change it. Changes go through the
 * approval cache, so they act on live connections at once: a denied, revoked or blocked device
 * is disconnected, an approved one is answered from its next message on.
 */
export function registerApprovalRoutes(app: FastifyInstance, { bridge, log }: RouteDeps): void {
  app.get<{ Querystring: z.infer<typeof ListQuery> }>('/api/devices', {
    schema: { querystring: jsonSchema(ListQuery), response: { 200: { type: 'array', items: jsonSchema(DeviceDto, 'output') } } },
  }, async (request) => {
    const { bot, status } = request.query;
    const devices = await bridge.admin.listDevices({ botName: bot, status });
    return devices.map((d) => deviceDto(d, bridge.admin.isConnected(d.botName, d.deviceId)));
  });

  app.get<{ Querystring: z.infer<typeof ListQuery> }>('/api/rooms', {
    schema: { querystring: jsonSchema(ListQuery), response: { 200: { type: 'array', items: jsonSchema(RoomDto, 'output') } } },
  }, async (request) => {
    const { bot, status } = request.query;
    return (await bridge.admin.listRooms({ botName: bot, status })).map(roomDto);
  });

  app.post<{ Params: z.infer<typeof DeviceActionParams>; Body: z.infer<typeof ReasonBody> }>('/api/devices/:bot/:device/:action', {
    schema: {
      params: jsonSchema(DeviceActionParams),
      body: jsonSchema(ReasonBody),
      response: { 200: jsonSchema(StatusChanged, 'output'), 404: jsonSchema(ErrorReply, 'output') },
    },
  }, async (request, reply) => {
    const { bot, device, action } = request.params;
    const status = ACTION_STATUS[action];
    const found = await bridge.admin.setDeviceStatus(bot, device, status, { reason: request.body.reason });
    if (!found) return sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: `device ${bot}/${device}` });
    log.info({ botName: bot, deviceId: device, status, remote: request.ip }, 'device approval changed through the admin API');
    return { status };
  });

  app.post<{ Params: z.infer<typeof RoomActionParams>; Body: z.infer<typeof ReasonBody> }>('/api/rooms/:bot/:room/:action', {
    schema: {
      params: jsonSchema(RoomActionParams),
      body: jsonSchema(ReasonBody),
      response: { 200: jsonSchema(StatusChanged, 'output'), 404: jsonSchema(ErrorReply, 'output') },
    },
  }, async (request, reply) => {
    const { bot, room, action } = request.params;
    const status = ACTION_STATUS[action];
    const found = await bridge.admin.setRoomStatus(bot, room, status, { reason: request.body.reason });
    if (!found) return sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: `room ${bot}/${room}` });
    log.info({ botName: bot, roomId: room, status, remote: request.ip }, 'room approval changed through the admin API');
    return { status };
  });

  app.post('/api/approvals/reload', {
    schema: { body: jsonSchema(Empty), response: { 200: jsonSchema(ReloadReply, 'output') } },
  }, async () => bridge.admin.reloadApprovals());
}

function deviceDto(d: DeviceRecord, connected: boolean) {
  return {
    botName: d.botName,
    deviceId: d.deviceId,
    status: d.status,
    ipAddress: d.ipAddress,
    clientType: d.clientType,
    clientVersion: d.clientVersion,
    approvedAt: iso(d.approvedAt),
    rejectionReason: d.rejectionReason,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    connected,
  };
}

function roomDto(r: RoomRecord) {
  return {
    botName: r.botName,
    roomId: r.roomId,
    roomName: r.roomName,
    status: r.status,
    roomConcurrency: r.roomConcurrency,
    approvedAt: iso(r.approvedAt),
    rejectionReason: r.rejectionReason,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
