import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Reply, ReplyTarget, SendResult } from '@botbridge/sdk';
import { sendError } from '../http-errors.js';
import { ErrorReply, jsonSchema, PushBody, PushParams, SendBodyWithKey, SendReply } from '../route-schemas.js';
import type { RouteDeps } from '../routes/route-deps.js';
import { IdempotencyKeys, type IdempotencyOptions } from './idempotency.js';

const IDEMPOTENCY_HEADER = 'idempotency-key';
const MAX_KEY_LENGTH = 200;

interface PushRequest {
  readonly target: ReplyTarget;
  readonly reply: Reply;
  readonly bodyKey: string | undefined;
}

const responses = {
  200: jsonSchema(SendReply, 'output'),
  400: jsonSchema(ErrorReply, 'output'),
  403: jsonSchema(ErrorReply, 'output'),
  404: jsonSchema(ErrorReply, 'output'),
  409: jsonSchema(ErrorReply, 'output'),
};

/**
 * The push API: another system (an order webhook, an alert) sends a message to a room as a
 * bot. Authorised by the admin token or an integration token limited to chosen bots and rooms
 * (`auth: 'push'`); the answer is the send's SendResult with its trace id. `POST /api/send` is
 * the same send with the target in the body.
 */
export function registerPushRoutes(app: FastifyInstance, { bridge, log }: RouteDeps, idempotency: IdempotencyOptions): void {
  // The store is read per call: the bridge opens it after the admin server is built.
  const keys = new IdempotencyKeys(idempotency, () => bridge.admin.pushKeys(), log);

  /** 403 when the caller is an integration that may not reach this room; null when it may. */
  const forbidden = (request: FastifyRequest, reply: FastifyReply, botName: string, roomId: string): FastifyReply | null => {
    const integration = request.integration;
    if (integration === null || integration.allows(botName, roomId)) return null;
    log.warn({ integration: integration.name, botName, roomId, remote: request.ip }, 'push refused: integration not allowed for this bot or room');
    return sendError(reply, 403, 'BRIDGE_ERR_HTTP_FORBIDDEN', { integration: integration.name, botName, roomId });
  };

  const push = async (request: FastifyRequest, reply: FastifyReply, input: PushRequest): Promise<unknown> => {
    const { target } = input;
    const integration = request.integration;
    const key = idempotencyKeyOf(request, input.bodyKey);
    if (key === 'conflict') return sendError(reply, 400, 'BRIDGE_ERR_HTTP_BAD_REQUEST', { reason: 'the Idempotency-Key header and the idempotencyKey field differ' });
    const caller = integration?.name ?? '';
    const send = (): Promise<SendResult> => bridge.admin.send(target, input.reply);
    if (key === undefined) {
      log.info({ botName: target.botName, room: target.room, integration: integration?.name ?? null, remote: request.ip }, 'push send');
      return send();
    }
    const answer = await keys.remember(caller, key, fingerprint(target, input.reply), () => {
      log.info({ botName: target.botName, room: target.room, integration: integration?.name ?? null, remote: request.ip }, 'push send');
      return send();
    });
    if (answer.kind === 'conflict') return sendError(reply, 409, 'BRIDGE_ERR_HTTP_IDEMPOTENCY_CONFLICT', { key });
    if (answer.kind === 'unknown') return sendError(reply, 409, 'BRIDGE_ERR_HTTP_IDEMPOTENCY_UNKNOWN', { key });
    if (answer.kind === 'new') return answer.result;
    reply.header('idempotent-replayed', 'true');
    return { ...answer.result, replayed: true };
  };

  app.post<{ Params: z.infer<typeof PushParams>; Body: z.infer<typeof PushBody> }>('/api/bots/:bot/rooms/:channelId/messages', {
    config: { auth: 'push' },
    schema: { params: jsonSchema(PushParams), body: jsonSchema(PushBody), response: responses },
  }, async (request, reply) => {
    const { bot, channelId: roomId } = request.params;
    const { text, media, deviceId, idempotencyKey } = request.body;
    if ((text === undefined) === (media === undefined)) return sendError(reply, 400, 'BRIDGE_ERR_HTTP_BAD_REQUEST', { reason: 'give exactly one of text and media' });
    const byName = roomId.startsWith('name:');
    if (!byName && !/^\d{1,40}$/.test(roomId)) return sendError(reply, 400, 'BRIDGE_ERR_HTTP_BAD_REQUEST', { reason: 'channelId must be a decimal channel id or name:<room>' });
    // Checked before the room lookup, so an integration learns nothing about rooms it may not reach.
    const refused = forbidden(request, reply, bot, roomId);
    if (refused !== null) return refused;
    const room = request.body.room ?? (byName ? roomId.slice(5) : (await bridge.admin.room(bot, roomId))?.roomName);
    if (room === undefined || room === '') return sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: `room ${roomId} of bot ${bot} (give its name as "room")` });
    const body: Reply = text !== undefined ? { kind: 'text', text } : { kind: 'media', ...media! };
    return push(request, reply, {
      target: { botName: bot, room, channelId: byName ? null : roomId, deviceId: deviceId ?? null },
      reply: body,
      bodyKey: idempotencyKey,
    });
  });

  // The older form, kept as an alias: the same send, authorisation and idempotency.
  app.post<{ Body: z.infer<typeof SendBodyWithKey> }>('/api/send', {
    config: { auth: 'push' },
    schema: { body: jsonSchema(SendBodyWithKey), response: responses },
  }, async (request, reply) => {
    const { botName, room, channelId, deviceId, text, idempotencyKey } = request.body;
    const refused = forbidden(request, reply, botName, channelId ?? `name:${room}`);
    if (refused !== null) return refused;
    return push(request, reply, {
      target: { botName, room, channelId: channelId ?? null, deviceId: deviceId ?? null },
      reply: { kind: 'text', text },
      bodyKey: idempotencyKey,
    });
  });
}

/** The key from the header and/or the body; 'conflict' when both are given and differ. */
function idempotencyKeyOf(request: FastifyRequest, bodyKey: string | undefined): string | undefined | 'conflict' {
  const header = request.headers[IDEMPOTENCY_HEADER];
  const headerKey = typeof header === 'string' && header.length > 0 ? header.slice(0, MAX_KEY_LENGTH) : undefined;
  if (headerKey !== undefined && bodyKey !== undefined && headerKey !== bodyKey) return 'conflict';
  return headerKey ?? bodyKey;
}

/** What a key stands for: the target and the content, hashed (stored beside the key). */
export function fingerprint(target: ReplyTarget, reply: Reply): string {
  return createHash('sha256').update(JSON.stringify([target.botName, target.channelId, target.room, target.deviceId ?? null, reply])).digest('base64url');
}
