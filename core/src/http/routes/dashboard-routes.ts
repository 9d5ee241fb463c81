import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { sendError } from '../http-errors.js';
import { rejectUnauthenticated, SESSION_COOKIE } from '../request-auth.js';
import { Empty, jsonSchema } from '../route-schemas.js';
import type { RouteDeps } from './route-deps.js';

const DASHBOARD_DIR = new URL('../dashboard/', import.meta.url);
const TYPES: Readonly<Record<string, string>> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * Third-party files the dashboard loads, served from node_modules under fixed names (no CDN, no
 * build step): uPlot draws the charts (charts.js).
 */
const VENDOR: Readonly<Record<string, string>> = { 'uplot.js': 'uplot/dist/uPlot.esm.js', 'uplot.css': 'uplot/dist/uPlot.min.css' };

/** Only same-origin scripts, styles and connections (the debug channel); no framing. */
const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const AssetParams = z.strictObject({ file: z.string().regex(/^[a-z0-9-]+\.(js|css)$/) });
const LoginBody = z.strictObject({ token: z.string().max(1_000).optional() });

interface Asset {
  readonly body: string;
  readonly type: string;
}

/** The dashboard's files, read once at start: there is no build step and nothing else is served. */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of readdirSync(DASHBOARD_DIR)) {
    const type = TYPES[file.slice(file.lastIndexOf('.'))];
    if (type !== undefined) assets.set(file, { body: readFileSync(new URL(file, DASHBOARD_DIR), 'utf8'), type });
  }
  return assets;
}

function loadVendor(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const assets = new Map<string, Asset>();
  for (const [name, module] of Object.entries(VENDOR)) {
    assets.set(name, { body: readFileSync(require.resolve(module), 'utf8'), type: TYPES[name.slice(name.lastIndexOf('.'))]! });
  }
  return assets;
}

/**
 * The login page, with a CSP that allows exactly its own inline script and style (by hash).
 * GET / answers it without a session (200), and POST /login with a wrong token (401).
 */
export function loginPage(): (failed: boolean) => { html: string; csp: string } {
  const template = readFileSync(new URL('login.html', DASHBOARD_DIR), 'utf8');
  const hash = (tag: string) => {
    const inner = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(template)?.[1] ?? '';
    return `'sha256-${createHash('sha256').update(inner).digest('base64')}'`;
  };
  const csp = `default-src 'none'; script-src ${hash('script')}; style-src ${hash('style')}; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
  const failedHtml = template.replace('<!--error-->', '<p class="error">토큰이 맞지 않습니다 · Wrong token</p>');
  return (failed) => ({ html: failed ? failedHtml : template, csp });
}

function sessionCookie(request: FastifyRequest, value: string, maxAgeS?: number): string {
  const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (maxAgeS !== undefined) parts.push(`Max-Age=${maxAgeS}`);
  if (request.protocol === 'https') parts.push('Secure');
  return parts.join('; ');
}

function page(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

/** GET / (the dashboard, or the login page without a session), its assets, sign-in and sign-out. */
export function registerDashboardRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const assets = loadAssets();
  const vendor = loadVendor();
  const index = readFileSync(new URL('index.html', DASHBOARD_DIR), 'utf8');

  app.get('/', { config: { loginPage: true }, schema: { querystring: jsonSchema(Empty) } }, async (_request, reply) => page(reply, index));

  app.get<{ Params: z.infer<typeof AssetParams> }>('/dashboard/:file', { schema: { params: jsonSchema(AssetParams) } }, async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) return sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: `dashboard file ${request.params.file}` });
    return reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').type(asset.type).send(asset.body);
  });

  app.get<{ Params: z.infer<typeof AssetParams> }>('/dashboard/vendor/:file', { schema: { params: jsonSchema(AssetParams) } }, async (request, reply) => {
    const asset = vendor.get(request.params.file);
    if (!asset) return sendError(reply, 404, 'BRIDGE_ERR_HTTP_NOT_FOUND', { what: `dashboard file vendor/${request.params.file}` });
    return reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').type(asset.type).send(asset.body);
  });

  // Sign-in and sign-out are HTML form posts (urlencoded); that parser exists only in this context.
  void app.register(async (login) => {
    login.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    login.post<{ Body: z.infer<typeof LoginBody> }>('/login', { config: { auth: 'login' }, schema: { body: jsonSchema(LoginBody) } }, async (request, reply) => {
      const { token } = request.body;
      if (token === undefined || token === '') return rejectUnauthenticated(request, reply, deps.auth, 'none', true);
      if (!deps.auth.token.matches(token)) return rejectUnauthenticated(request, reply, deps.auth, 'wrong-token', true);
      deps.log.info({ remote: request.ip }, 'dashboard sign-in');
      return reply.header('set-cookie', sessionCookie(request, deps.auth.token.cookieValue)).header('cache-control', 'no-store').redirect('/', 303);
    });
    login.post('/logout', { schema: { body: jsonSchema(Empty) } }, async (request, reply) =>
      reply.header('set-cookie', sessionCookie(request, '', 0)).redirect('/', 303));
  });
}
