import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { CliError } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { formatLocalTime, formatTable } from './format-table.js';

/**
 * `botbridge bans list|lift`: the running server's temporary bans (issue 13). Bans live in the
 * server's memory, so these talk to its admin API (`GET /api/bans`, `POST /api/bans/lift`), not
 * to the store. The token comes from --token or BOTBRIDGE_ADMIN_TOKEN and is never printed.
 */

export interface AdminOptions {
  readonly url: string;
  readonly token?: string;
}

interface BanRow {
  readonly kind: string;
  readonly subject: string;
  readonly since: number;
  readonly until: number;
  readonly reason: string;
}

const DEFAULT_URL = 'http://127.0.0.1:8080';
const REQUEST_TIMEOUT_MS = 10_000;

export function addBanCommands(program: Command, io: CliIo): void {
  const bans = program.command('bans').description('list or lift the running server\'s temporary bans (admin API)');
  const common = (command: Command) =>
    command
      .option('--url <url>', `admin HTTP server of the running bridge (default ${DEFAULT_URL}, or BOTBRIDGE_ADMIN_URL)`)
      .option('--token <token>', 'admin token (default BOTBRIDGE_ADMIN_TOKEN)');

  common(bans.command('list').description('list live bans')).action(async (options: Partial<AdminOptions>) => {
    const rows = (await call(resolve(options), 'GET', '/api/bans')) as BanRow[];
    if (rows.length === 0) {
      io.out('no bans\n');
      return;
    }
    const now = Date.now();
    io.out(formatTable(
      ['KIND', 'SUBJECT', 'REASON', 'SINCE', 'REMAINING'],
      rows.map((b) => [b.kind, b.subject, b.reason, formatLocalTime(new Date(b.since)), `${Math.max(0, Math.ceil((b.until - now) / 1000))} s`]),
    ));
  });

  common(bans.command('lift').description('lift a ban').argument('<kind>', 'device or address', parseKind).argument('<subject>', 'botName/deviceID for a device, the remote address for an address'))
    .action(async (kind: string, subject: string, options: Partial<AdminOptions>) => {
      await call(resolve(options), 'POST', '/api/bans/lift', { kind, subject });
      io.out(`lifted ${kind} ban ${subject}\n`);
    });
}

function parseKind(value: string): string {
  if (value !== 'device' && value !== 'address') throw new InvalidArgumentError('expected device or address');
  return value;
}

export function resolve(options: Partial<AdminOptions>): AdminOptions {
  const token = options.token ?? process.env.BOTBRIDGE_ADMIN_TOKEN;
  return { url: options.url ?? process.env.BOTBRIDGE_ADMIN_URL ?? DEFAULT_URL, ...(token ? { token } : {}) };
}

export async function call(admin: AdminOptions, method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (admin.token !== undefined) headers.authorization = `Bearer ${admin.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(new URL(path, admin.url), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new CliError(`cannot reach the admin API at ${admin.url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const payload = (await response.json().catch(() => null)) as { message?: string; code?: string } | null;
  if (!response.ok) throw new CliError(`${method} ${path}: ${response.status} ${payload?.message ?? ''}${payload?.code ? ` (${payload.code})` : ''}`.trim());
  return payload;
}
