import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { formatMessage, isBridgeError, type BridgeErrorCode } from '../errors.js';
import type { CoreLogger } from '../logger.js';

/** The body of every error answer of the admin server: the catalogue's code and message. */
export interface ErrorBody {
  readonly error: BridgeErrorCode;
  readonly message: string;
}

export function errorBody(code: BridgeErrorCode, params: Record<string, unknown> = {}): ErrorBody {
  return { error: code, message: formatMessage(code, params) };
}

export function sendError(reply: FastifyReply, status: number, code: BridgeErrorCode, params: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send(errorBody(code, params));
}

/** HTTP status of a core error thrown by a route (the bridge's own codes). */
const STATUS_OF: Partial<Record<BridgeErrorCode, number>> = {
  BRIDGE_ERR_NOT_RUNNING: 409,
  BRIDGE_ERR_ENQUEUE_AFTER_CLOSE: 409,
  BRIDGE_ERR_PACKET_INVALID: 400,
  BRIDGE_ERR_REPLY_TOO_LARGE: 400,
  BRIDGE_ERR_STORE_UNAVAILABLE: 503,
};

/**
 * Schema failures and oversized bodies become coded 400/413 answers; core errors keep their
 * code; anything else is a 500 whose details stay in the log.
 */
export function installErrorHandling(app: FastifyInstance, log: CoreLogger): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return sendError(reply, 400, 'BRIDGE_ERR_HTTP_BAD_REQUEST', { reason: error.message });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(reply, 413, 'BRIDGE_ERR_HTTP_BAD_REQUEST', { reason: 'body too large' });
    }
    if (isBridgeError(error)) {
      return reply.code(STATUS_OF[error.code] ?? 500).header('cache-control', 'no-store').send({ error: error.code, message: error.message });
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, error.statusCode, 'BRIDGE_ERR_HTTP_BAD_REQUEST', { reason: error.message });
    }
    log.error({ err: error, method: request.method, route: request.routeOptions.url }, 'admin route failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error (see the server log)' });
  });
  // Unknown paths answer 404 only after authentication (onRequest runs first), so they do not
  // tell an unauthenticated caller which routes exist.
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: `${request.method} ${request.url.split('?')[0]}` }));
}
