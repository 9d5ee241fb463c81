import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { sql, type Kysely } from 'kysely';
import type { BridgeSettings } from '@botbridge/sdk';
import { adminTokenFromEnv } from '../config/env-overrides.js';
import { reasonOf } from '../errors.js';
import { dialectFor, parseStoreUrl } from '../store/dialects/registry.js';
import { createMigrator, MIGRATION_TABLE } from '../store/migrations.js';

/**
 * The checks of `botbridge doctor`. Each looks without changing anything (no store is created,
 * no migration applied, no port kept) and says what to fix.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about a warn or fail. */
  readonly fix?: string;
}

const PROBE_MS = 3_000;

function result(check: string, status: CheckStatus, detail: string, fix?: string): CheckResult {
  return fix === undefined ? { check, status, detail } : { check, status, detail, fix };
}

/** Store reachability and schema: the migrations applied against the ones this botbridge knows. */
export async function checkStore(settings: BridgeSettings, cwd: string = process.cwd()): Promise<CheckResult[]> {
  const url = settings.store.url;
  let target;
  try {
    target = parseStoreUrl(url, cwd);
  } catch (error) {
    return [result('store', 'fail', reasonOf(error), 'fix store.url (or BOTBRIDGE_STORE): sqlite:PATH or mysql://user:password@host:port/database')];
  }
  if (target.kind === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) {
    return [result('store', 'warn', `no store yet at sqlite:${target.path}`, 'botbridge start creates it; if the server already ran, you are in another folder than its own (run doctor there, or pass --config / BOTBRIDGE_STORE)')];
  }
  const description = target.kind === 'sqlite' ? `sqlite:${target.path}` : target.redacted;
  const dialect = dialectFor(url);
  const { connectionLimit, queueLimit, queryTimeoutMs, timeZone } = settings.store;
  let connection;
  try {
    connection = await dialect.open(target as never, { connectionLimit: Math.min(connectionLimit, 2), queueLimit, connectTimeoutMs: PROBE_MS, queryTimeoutMs, timeZone });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const fix = code === 'BRIDGE_ERR_STORE_NO_DATABASE' ? 'create the database (the command is above), or fix its name in the store URL'
      : target.kind === 'mysql' ? `check that the server runs and the URL's host, port, user and password: mysql -h ${target.host} -P ${target.port} -u ${target.user || 'root'} -p ${target.database}`
        : 'check the file\'s permissions (the user running botbridge must read and write it and its folder)';
    return [result('store', 'fail', `${description}: ${reasonOf(error)}`, fix)];
  }
  try {
    const { db } = connection;
    await sql`select 1`.execute(db);
    const checks = [result('store', 'ok', `${description} answers`)];
    let applied: string[] = [];
    try {
      applied = (await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db)).rows.map((r) => r.name);
    } catch {
      applied = []; // no migration table: a store botbridge never started on (an old Python server's database)
    }
    const known = (await createMigrator(db, dialect).getMigrations()).map((m) => m.name);
    const unknown = applied.filter((name) => !known.includes(name));
    const pending = known.filter((name) => !applied.includes(name));
    if (unknown.length > 0) {
      checks.push(result('schema', 'fail', `migrated by a newer botbridge: ${unknown.join(', ')} unknown to this one`, 'upgrade botbridge to the version that migrated it, or restore the backup taken before that upgrade (docs/operations.md, "Upgrade and roll back")'));
    } else if (pending.length > 0) {
      checks.push(result('schema', 'warn', `${applied.length} of ${known.length} migrations applied; pending: ${pending.join(', ')}`, 'botbridge start applies them; back the store up first (botbridge backup FILE)'));
    } else {
      checks.push(result('schema', 'ok', `up to date (${known.length} migrations)`));
    }
    checks.push(await checkClientVersions(db));
    return checks;
  } finally {
    await connection.db.destroy().catch(() => undefined);
  }
}

/** Versions the bridge scripts reported: v3.2.0–v3.2.2 and v3.3.x are the ones botbridge speaks. */
const SUPPORTED_SCRIPT = /^v?3\.(2\.[0-2]|3\.\d+)\b/;

async function checkClientVersions(db: Kysely<any>): Promise<CheckResult> {
  const note = 'bridge script v3.2.0–v3.2.2 or v3.3.x, unmodified (docs/protocol.md)';
  let versions: string[];
  try {
    versions = (await sql<{ v: string | null }>`select distinct client_version as v from kb_bot_devices`.execute(db)).rows.map((r) => r.v ?? '').filter((v) => v !== '');
  } catch {
    return result('scripts', 'ok', `${note}; no device has connected yet`);
  }
  if (versions.length === 0) return result('scripts', 'ok', `${note}; no device has connected yet`);
  const other = versions.filter((v) => !SUPPORTED_SCRIPT.test(v));
  if (other.length > 0) return result('scripts', 'warn', `devices reported ${other.join(', ')}; botbridge speaks ${note}`, 'update those phones\' bridge script from wangtae/domaeka, client/messengerbotR/');
  return result('scripts', 'ok', `devices run ${versions.join(', ')}; ${note}`);
}

/** Can this port be bound on this host? When not: is it the running botbridge (its /ready answers) or something else? */
export async function checkPort(check: string, host: string, port: number, what: { flag: string; key: string; env: string; httpDisabled?: boolean }, botbridgeOnHttp: () => Promise<boolean>): Promise<CheckResult> {
  if (port === 0) return result(check, 'ok', `${host}:0 (a free port is picked at start)`);
  const outcome = await new Promise<string | null>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
  if (outcome === null) return result(check, 'ok', `${host}:${port} is free`);
  if (outcome === 'EADDRINUSE' && (await botbridgeOnHttp())) return result(check, 'ok', `${host}:${port} is held by the running botbridge`);
  if (outcome === 'EADDRINUSE') {
    return result(check, 'fail', `${host}:${port} is in use by another process${what.httpDisabled ? ' (or by a botbridge without its admin HTTP server, which doctor cannot tell apart)' : ''}`, `find it with \`ss -ltnp 'sport = :${port}'\` and stop it, or choose another port (${what.flag}, ${what.env} or ${what.key})`);
  }
  if (outcome === 'EACCES') return result(check, 'fail', `${host}:${port}: permission denied`, `ports below 1024 need root or CAP_NET_BIND_SERVICE; choose another (${what.flag}, ${what.env} or ${what.key})`);
  if (outcome === 'EADDRNOTAVAIL') return result(check, 'fail', `${host} is not an address of this host`, `set ${what.key} (or ${what.env}) to one of this host's addresses, or 0.0.0.0`);
  return result(check, 'fail', `${host}:${port}: ${outcome}`);
}

/** Whether a botbridge admin server answers on this port: its /ready has the shape only botbridge gives. */
export async function botbridgeAnswers(host: string, port: number): Promise<boolean> {
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  try {
    const response = await fetch(`http://${target}:${port}/ready`, { signal: AbortSignal.timeout(PROBE_MS) });
    const body = (await response.json()) as Record<string, unknown>;
    return typeof body.ready === 'boolean' && 'store' in body && 'listener' in body;
  } catch {
    return false;
  }
}

/**
 * The NATS servers of `cluster.url` (the cluster key arrives with cluster support; read
 * defensively) or BOTBRIDGE_CLUSTER_URL: a TCP connect and the server's INFO line, which a NATS
 * server sends first to every client.
 */
export async function checkNats(settings: BridgeSettings | undefined, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult | undefined> {
  const fromConfig = (settings as { cluster?: { url?: unknown } } | undefined)?.cluster?.url;
  const url = typeof fromConfig === 'string' && fromConfig !== '' ? fromConfig : env.BOTBRIDGE_CLUSTER_URL?.trim();
  if (url === undefined || url === '') return undefined;
  const failures: string[] = [];
  const answered: string[] = [];
  for (const part of url.split(',').map((p) => p.trim())) {
    let parsed: URL;
    try {
      parsed = new URL(part);
    } catch {
      failures.push(`${part}: not a URL`);
      continue;
    }
    const port = parsed.port === '' ? 4222 : Number(parsed.port);
    const reply = await natsInfo(parsed.hostname, port);
    if (reply.ok) answered.push(`${parsed.hostname}:${port} (NATS ${reply.version}${reply.jetstream ? ', JetStream' : ''})`);
    else failures.push(`${parsed.hostname}:${port}: ${reply.reason}`);
  }
  if (failures.length > 0) {
    return result('cluster', 'fail', `NATS (cluster.url) ${failures.join('; ')}`, 'start nats-server with JetStream (-js) there, or fix cluster.url / BOTBRIDGE_CLUSTER_URL');
  }
  const withoutJs = answered.filter((a) => !a.includes('JetStream'));
  if (withoutJs.length > 0) return result('cluster', 'warn', `NATS answers at ${answered.join(', ')} without JetStream`, 'start nats-server with -js (JetStream)');
  return result('cluster', 'ok', `NATS answers at ${answered.join(', ')}`);
}

function natsInfo(host: string, port: number): Promise<{ ok: true; version: string; jetstream: boolean } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    let buffered = '';
    const socket = connect({ host, port });
    const done = (value: { ok: true; version: string; jetstream: boolean } | { ok: false; reason: string }) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(PROBE_MS, () => done({ ok: false, reason: `no answer within ${PROBE_MS} ms` }));
    socket.on('error', (error: NodeJS.ErrnoException) => done({ ok: false, reason: error.code ?? error.message }));
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const end = buffered.indexOf('\r\n');
      if (end < 0 && buffered.length < 65_536) return;
      const line = buffered.slice(0, end < 0 ? undefined : end);
      if (!line.startsWith('INFO ')) return done({ ok: false, reason: 'answers, but not as a NATS server' });
      try {
        const info = JSON.parse(line.slice(5)) as { version?: string; jetstream?: boolean };
        done({ ok: true, version: info.version ?? '?', jetstream: info.jetstream === true });
      } catch {
        done({ ok: false, reason: 'answers, but not as a NATS server' });
      }
    });
    socket.on('end', () => done({ ok: false, reason: 'closed the connection without an INFO line' }));
  });
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const GUESSABLE = /password|passwd|changeme|secret|admin|token|letmein|qwerty|123456/i;

/** The admin token: set (stable across restarts), strong, and a token file only its owner reads. */
export function checkAdminToken(settings: BridgeSettings, env: NodeJS.ProcessEnv = process.env): CheckResult {
  const { http } = settings;
  if (!http.enabled) return result('token', 'ok', 'the admin HTTP server is disabled');
  let fromEnv;
  try {
    fromEnv = adminTokenFromEnv(env);
  } catch (error) {
    return result('token', 'fail', reasonOf(error), 'set only one of BOTBRIDGE_ADMIN_TOKEN and BOTBRIDGE_ADMIN_TOKEN_FILE, naming a readable file');
  }
  const token = fromEnv?.value ?? http.adminToken;
  const source = fromEnv?.source ?? 'http.adminToken';
  const strongFix = 'use a long random token: openssl rand -hex 32 > /etc/botbridge/admin-token, then BOTBRIDGE_ADMIN_TOKEN_FILE=/etc/botbridge/admin-token';
  if (token === undefined) {
    if (!LOOPBACK.has(http.host)) return result('token', 'fail', `the dashboard listens on ${http.host} without an admin token: botbridge start refuses that (BRIDGE_ERR_HTTP_NO_TOKEN)`, strongFix);
    return result('token', 'warn', 'no admin token: a new one is made at every start and logged once in the dashboard URL', strongFix);
  }
  // A common word in a long random token costs nothing; in a short one it is most of the token.
  const word = GUESSABLE.test(token) && token.length < 32;
  if (token.length < 16 || new Set(token).size < 8 || word) {
    return result('token', 'fail', `the admin token (${source}) is easy to guess (${token.length} characters, ${new Set(token).size} distinct${word ? ', a common word' : ''})`, strongFix);
  }
  if (fromEnv?.fileMode !== undefined && (fromEnv.fileMode & 0o077) !== 0) {
    return result('token', 'warn', `the token file ${source} is readable by others (mode ${fromEnv.fileMode.toString(8).padStart(3, '0')})`, `chmod 600 ${source} (owned by the user running botbridge)`);
  }
  if (token.length < 32) return result('token', 'warn', `the admin token (${source}) has ${token.length} characters`, strongFix);
  return result('token', 'ok', `set by ${source}${fromEnv?.fileMode === undefined ? '' : ` (mode ${fromEnv.fileMode.toString(8).padStart(3, '0')})`}`);
}
