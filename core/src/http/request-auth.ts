import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CoreLogger } from '../logger.js';
import type { AdminToken } from './admin-token.js';
import type { AuthFailureLimiter } from './auth-failures.js';
import { sendError } from './http-errors.js';
import type { Integration, IntegrationTokens } from './push/integration-tokens.js';

/**
 * How a route is protected:
 * - `token` (default): a bearer token or the dashboard session cookie;
 * - `public`: nothing (only /health and /ready);
 * - `login`: the handler checks a token itself (POST /login), the origin check and the
 *   failure budget still apply;
 * - `push`: the admin token, or an integration's token (`http.integrations`, bearer only); the
 *   route checks what the integration may reach (`request.integration`).
 */
export type RouteAuth = 'token' | 'public' | 'login' | 'push';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** Also accept `?token=` (the WebSocket upgrade: browsers cannot set its headers). */
    queryToken?: boolean;
    /** Answer a failed authentication with the dashboard's login page (200 without a credential, 401 for a wrong one). */
    loginPage?: boolean;
  }
  interface FastifyRequest {
    /** The integration a `push` route's caller authenticated as; null for the admin token. */
    integration: Integration | null;
  }
}

export const SESSION_COOKIE = 'botbridge_session';

export interface AuthOptions {
  readonly token: AdminToken;
  readonly limiter: AuthFailureLimiter;
  /** Origins allowed besides the server's own. */
  readonly allowedOrigins: readonly string[];
  readonly log: CoreLogger;
  /** Counts a refused credential: `http_auth_failures{reason}`, exported on /metrics. */
  readonly countFailure: (reason: string) => void;
  readonly loginPage: (failed: boolean) => { html: string; csp: string };
  /** Tokens of the push API's integrations (accepted on `push` routes only). */
  readonly integrations: IntegrationTokens;
}

type Credential = { ok: true; integration?: Integration } | { ok: false; reason: string };

/** One onRequest hook guards every route, the 404 handler included, so no route can forget it. */
export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  app.decorateRequest('integration', null);
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    const auth = config.auth ?? 'token';
    if (auth === 'public') return;
    const origin = request.headers.origin;
    if (origin !== undefined && !originAllowed(origin, request.headers.host, options.allowedOrigins)) {
      options.log.warn({ remote: request.ip, origin, route: request.routeOptions.url }, 'admin request from a foreign origin refused');
      return sendError(reply, 403, 'BRIDGE_ERR_HTTP_ORIGIN', { origin });
    }
    const waitMs = options.limiter.blockedFor(request.ip);
    if (waitMs > 0) {
      const retryAfterS = Math.ceil(waitMs / 1_000);
      reply.header('retry-after', String(retryAfterS));
      return sendError(reply, 429, 'BRIDGE_ERR_HTTP_RATE_LIMITED', { address: request.ip, retryAfterS });
    }
    if (auth === 'login') return;
    const credential = credentialOf(request, options.token, config.queryToken === true, auth === 'push' ? options.integrations : null);
    if (credential.ok) {
      request.integration = credential.integration ?? null;
      return;
    }
    return rejectUnauthenticated(request, reply, options, credential.reason);
  });
}

/** Counts the failure against the caller's address and answers 401 (as the login page when `page`). */
export function rejectUnauthenticated(
  request: FastifyRequest,
  reply: FastifyReply,
  options: AuthOptions,
  reason: string,
  page = request.routeOptions.config.loginPage === true,
): FastifyReply {
  // Only a credential that was presented and wrong spends the budget: a first visit to the
  // dashboard (no cookie yet) is not a guess. No token material is logged, only the reason.
  if (reason !== 'none') {
    const failures = options.limiter.fail(request.ip);
    options.countFailure(reason);
    options.log.warn({ remote: request.ip, route: request.routeOptions.url ?? request.url.split('?')[0], reason, failures }, 'admin authentication failed');
  }
  reply.header('cache-control', 'no-store');
  if (page) {
    // A stale cookie (the server restarted) is not the user's mistake: no error text for it.
    // A first visit (or one after a restart) is answered 200: the login page is what was asked
    // for, and a 401 document makes browsers log a console error on every first visit. A
    // sign-in with a wrong (or no) token stays a 401. The API routes never take this branch.
    const login = options.loginPage(reason === 'wrong-token');
    const visit = request.method === 'GET' || request.method === 'HEAD';
    const status = visit && (reason === 'none' || reason === 'stale-session') ? 200 : 401;
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="botbridge"');
    return reply.code(status).header('content-security-policy', login.csp).type('text/html; charset=utf-8').send(login.html);
  }
  reply.header('www-authenticate', 'Bearer realm="botbridge"');
  return sendError(reply, 401, 'BRIDGE_ERR_HTTP_UNAUTHORIZED');
}

function credentialOf(request: FastifyRequest, token: AdminToken, allowQuery: boolean, integrations: IntegrationTokens | null): Credential {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) return { ok: false, reason: 'malformed-authorization' };
    if (token.matches(match[1]!)) return { ok: true };
    const integration = integrations?.match(match[1]!) ?? null;
    return integration !== null ? { ok: true, integration } : { ok: false, reason: 'wrong-token' };
  }
  const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
  if (cookie !== undefined) {
    if (!token.matchesCookie(cookie)) return { ok: false, reason: 'stale-session' };
    // A cookie rides along with cross-site requests; state changes need a (checked) Origin too.
    const safe = request.method === 'GET' || request.method === 'HEAD';
    if (!safe && request.headers.origin === undefined) return { ok: false, reason: 'session-without-origin' };
    return { ok: true };
  }
  if (allowQuery) {
    const query = request.query as Record<string, unknown> | undefined;
    const value = query?.token;
    if (typeof value === 'string') return token.matches(value) ? { ok: true } : { ok: false, reason: 'wrong-token' };
  }
  return { ok: false, reason: 'none' };
}

/** Same origin as the Host the browser addressed, or listed in http.allowedOrigins. */
export function originAllowed(origin: string, host: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.includes(origin)) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (host === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return false;
  // Normalised the same way (a default port is dropped from both sides).
  try {
    return new URL(`${parsed.protocol}//${host}`).host === parsed.host;
  } catch {
    return false;
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
