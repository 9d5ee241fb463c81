import type { WebsocketPluginOptions } from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { HttpSettings } from './admin-server.js';

const WS_CLOSE_GRACE_MS = 1_000;

/**
 * The fastify instance of the admin server with its transport-level behaviour: limits, strict
 * schemas, security headers, and the socket handling that WebSocket upgrades need. Routes and
 * authentication are added by admin-server.ts.
 */
/** How often Node looks for requests past their header or request timeout. */
const CONNECTION_CHECK_MS = 1_000;

export function createFastify(settings: HttpSettings, log: CoreLogger): FastifyInstance {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Per-request lines would drown the bridge's own log; routes log what matters themselves.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.bodyLimitBytes,
    // Issue 13: a body that never ends, or headers dribbled byte by byte, no longer hold a socket
    // open (requestTimeout was 0, headers lived 90 s). Node checks these every
    // connectionsCheckingInterval, so a slow request is cut within timeout + that interval.
    requestTimeout: settings.requestTimeoutMs,
    http: { headersTimeout: settings.headersTimeoutMs, requestTimeout: settings.requestTimeoutMs, connectionsCheckingInterval: CONNECTION_CHECK_MS },
    forceCloseConnections: true,
    return503OnClosing: true,
    // Strict schemas: an unknown field is an error, not silently stripped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });
  // A POST without a body is an empty object, so `{}`-shaped schemas accept it.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method === 'POST') request.body = {};
  });
  // `same-origin`, not `no-referrer`: under no-referrer browsers send `Origin: null` with form
  // posts, and the origin check (the CSRF guard of cookie sessions) would refuse the login form.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY').header('referrer-policy', 'same-origin');
  });
  // An upgrade refused by a hook (401/403/429) is answered on the raw socket, which Node no
  // longer manages after 'upgrade': close it, or it stays half-open and app.close() never ends.
  // Accepted upgrades are hijacked by @fastify/websocket and never reach onResponse.
  app.addHook('onResponse', async (request) => {
    if (request.headers.upgrade === undefined) return;
    const socket = request.raw.socket;
    socket.end(() => socket.destroy());
  });
  return app;
}

export function websocketOptions(app: FastifyInstance, settings: HttpSettings, log: CoreLogger): WebsocketPluginOptions {
  return {
    options: { maxPayload: settings.wsMaxPayloadBytes },
    // Debug clients get a close frame; one that does not answer it is cut off after a grace
    // period, so closing the server is bounded (ws would otherwise wait 30 s for it).
    preClose(done) {
      const wss = app.websocketServer;
      for (const client of wss.clients) client.close(1001, 'server closing');
      const timer = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, WS_CLOSE_GRACE_MS);
      wss.close(() => {
        clearTimeout(timer);
        done();
      });
    },
    errorHandler: (error, socket, request) => {
      log.warn({ remote: request.ip, err: reasonOf(error) }, 'debug channel failed');
      socket.terminate();
    },
  };
}
