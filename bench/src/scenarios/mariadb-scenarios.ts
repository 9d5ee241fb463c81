import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { LoadComparison, Skipped } from '../report/results-types.js';
import type { BenchContext } from './bench-context.js';
import { closedLoopScenarios } from './load-scenarios.js';

const run = promisify(execFile);

/** Drops and recreates the bench database with the `mysql` client, so every botbridge run starts empty. */
export async function recreateDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const db = decodeURIComponent(u.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(db)) throw new Error(`refusing to recreate database ${JSON.stringify(db)}`);
  const args = ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username || 'root')];
  if (u.password) args.push(`-p${decodeURIComponent(u.password)}`);
  args.push('-e', `DROP DATABASE IF EXISTS \`${db}\`; CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await run('mysql', args, { timeout: 30_000 });
}

/** The first error line botbridge logged (its JSON `msg` and `err`), for the "not run" reason. */
function firstError(logFile: string): string {
  try {
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (line.includes('"level":50') || line.includes('"level":60') || line.startsWith('Error') || line.includes('Error:')) {
        try {
          const entry = JSON.parse(line) as { msg?: string; err?: unknown };
          return `${entry.msg ?? ''} ${typeof entry.err === 'string' ? entry.err : JSON.stringify(entry.err ?? '')}`.trim();
        } catch {
          return line.trim();
        }
      }
    }
  } catch {
    // no log: the reason given by the caller stands
  }
  return '';
}

/**
 * The closed-loop scenarios with the MariaDB store, when it can be used: the server must be
 * reachable and botbridge must start with `mysql://…` (the MySQL store may not exist yet). Else
 * the scenarios are reported as not run, with the reason.
 */
export async function mariadbScenarios(ctx: BenchContext): Promise<LoadComparison[] | Skipped> {
  const url = ctx.plan.mariadb.url;
  try {
    await recreateDatabase(url);
  } catch (error) {
    return { status: 'not-run', reason: `MariaDB at ${new URL(url).host} could not be prepared: ${(error as Error).message.split('\n')[0]}` };
  }
  try {
    const { server } = await ctx.startServer('botbridge', 'mariadb-probe', { maxConnections: 100, maxHandshaking: 20, storeUrl: url });
    await server.stop();
  } catch (error) {
    const message = (error as Error).message;
    const logFile = message.match(/see (\S+)\)/)?.[1];
    const logged = logFile ? firstError(logFile) : '';
    return { status: 'not-run', reason: `botbridge does not start with ${url}: ${logged || message}` };
  }
  return closedLoopScenarios(ctx, 'mariadb', url, () => recreateDatabase(url));
}
