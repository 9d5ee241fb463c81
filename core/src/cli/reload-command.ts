import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { CliError, EXIT_FAILURE } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import type { ReloadReport } from '../plugins/plugin-reload.js';

/** What POST /api/reload answers. */
type ReloadAnswer = ReloadReport;

interface ReloadOptions {
  readonly url?: string;
  readonly token?: string;
  readonly config?: string;
  readonly pid?: number;
  readonly json?: boolean;
}

/** Plugin setups may open databases: the server bounds each by pluginHost.setupTimeoutMs. */
const REQUEST_TIMEOUT_MS = 120_000;

function parsePid(value: string): number {
  const pid = Number(value);
  if (!/^\d+$/.test(value) || pid < 2) throw new InvalidArgumentError('expected a process id.');
  return pid;
}

/**
 * `botbridge reload`: asks the running server to re-read bridge.config.ts and swap its plugin
 * set (docs/operations.md, "Reload"). Through the admin API (the answer says whether the new
 * set serves, or why it was refused, and which changed settings need a restart), or with
 * `--pid`, by SIGHUP (no answer: the outcome is in the server's log).
 */
export function addReloadCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program.command('reload')
    .description('reload bridge.config.ts and the plugins in the running server, keeping every phone connected')
    .option('--url <url>', 'admin API of the server (default: $BOTBRIDGE_ADMIN_URL, else http.host/http.port of the config)')
    .option('--token <token>', 'admin token (default: $BOTBRIDGE_ADMIN_TOKEN, else http.adminToken of the config)')
    .option('--config <file>', 'bridge config file the server runs (default: ./bridge.config.ts), for the admin address and token')
    .option('--pid <pid>', 'send SIGHUP to this process instead of calling the admin API (no answer; see the server log)', parsePid)
    .option('--json', 'print the answer as JSON')
    .action(async (options: ReloadOptions) => {
      if (options.pid !== undefined) {
        signal(options.pid);
        io.out(`SIGHUP sent to ${options.pid}; the server logs "plugins reloaded" or "reload refused"\n`);
        return;
      }
      const { url, token } = await adminEndpoint(options);
      const answer = await postReload(url, token);
      if (options.json === true) io.out(`${JSON.stringify(answer)}\n`);
      else io.out(describe(answer));
      if (!answer.ok) setExitCode(EXIT_FAILURE);
    });
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGHUP');
  } catch (error) {
    throw new CliError(`cannot signal process ${pid}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The admin API's address and token: flags and environment first (as `botbridge bans`), else the config's http section. The token is never printed. */
async function adminEndpoint(options: ReloadOptions): Promise<{ url: string; token: string }> {
  let url = options.url ?? process.env.BOTBRIDGE_ADMIN_URL;
  let token = options.token ?? process.env.BOTBRIDGE_ADMIN_TOKEN;
  if (url === undefined || !token) {
    const file = resolve(options.config ?? 'bridge.config.ts');
    // Read only for its http section; importing it loads its plugins' modules, never sets them up.
    const http = existsSync(file) ? (await import('../config/load-config.js').then((m) => m.loadBridgeConfig(file))).settings.http : undefined;
    if (url === undefined) url = `http://${hostForUrl(http?.host ?? '127.0.0.1')}:${http?.port ?? 8080}`;
    token ||= http?.adminToken;
  }
  if (!token) {
    throw new CliError('no admin token: set BOTBRIDGE_ADMIN_TOKEN (or http.adminToken in the config). A server running on a generated token is reloaded with --pid <pid> (SIGHUP) instead.');
  }
  return { url: url.replace(/\/+$/, ''), token };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

async function postReload(url: string, token: string): Promise<ReloadAnswer> {
  let res: Response;
  try {
    res = await fetch(`${url}/api/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new CliError(`cannot reach the admin API at ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  if (res.status === 401) throw new CliError(`the admin API at ${url} refused the admin token (401)`);
  const body = (await res.json().catch(() => null)) as ReloadAnswer | { message?: string } | null;
  if (body !== null && typeof body === 'object' && 'ok' in body) return body;
  throw new CliError(`the admin API at ${url} answered ${res.status}${body && 'message' in body && body.message ? `: ${body.message}` : ''}`);
}

function describe(answer: ReloadAnswer): string {
  const lines: string[] = [];
  if (answer.ok) lines.push(`reloaded in ${answer.durationMs} ms: generation ${answer.generation}, plugins: ${answer.plugins.join(', ') || '(none)'}`);
  else {
    lines.push(`reload refused (${answer.error?.code}): ${answer.error?.message}`);
    lines.push(`the previous plugins go on serving: generation ${answer.generation}, plugins: ${answer.plugins.join(', ') || '(none)'}`);
  }
  if (answer.files !== undefined && (answer.files.certificates > 0 || answer.files.secretsFile)) {
    lines.push(`re-read: ${answer.files.certificates} TLS certificate pair(s)${answer.files.secretsFile ? ', the secrets file' : ''}`);
  }
  if (answer.restartRequired.length > 0) lines.push(`changed settings that need a restart (not applied): ${answer.restartRequired.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
