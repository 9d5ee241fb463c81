import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchResults, LoadComparison, LoadFigures, NothingLostRun } from '../report/results-types.js';
import type { BenchContext } from './bench-context.js';
import { describeRun } from './load-scenarios.js';
import { poolRuns, runLoad, type LoadSpec } from './load-run.js';
import { recreateDatabase } from './mariadb-scenarios.js';

/**
 * The last full run before chat-log rows were counted (they were silently dropped then): its
 * 100-connection figures are "today's" next to which the honest ones are reported.
 */
const REFERENCE = 'bench/results/2026-12-05-full.json';

function referenceFigures(store: 'sqlite' | 'mariadb', connections: number): NothingLostRun['reference'] {
  const file = join(resolve(import.meta.dirname, '../../..'), REFERENCE);
  if (!existsSync(file)) return null;
  const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  const rows: readonly LoadComparison[] = store === 'sqlite' ? results.closedLoop : Array.isArray(results.mariadb) ? (results.mariadb as readonly LoadComparison[]) : [];
  const row = rows.find((c) => c.connections === connections);
  if (!row) return null;
  const f = row.botbridge;
  return { file: REFERENCE, repliesPerSec: f.repliesPerSec, usPerReply: (f.serverCpu * 1e6) / f.repliesPerSec };
}

/**
 * botbridge alone at `nothingLost.connections`, closed loop, one long window per store (SQLite,
 * then MariaDB when it can be prepared): the figures an operator gets when nothing may be lost.
 * Each run ends with a graceful close; the chat-log rows in the store are counted against the
 * rows due, and RSS is followed from idle through the load to the end of a cool-down.
 */
export async function nothingLostScenario(ctx: BenchContext): Promise<NothingLostRun[]> {
  const { connections, durationMs, cooldownMs, heapSnapshots, stores = ['sqlite', 'mariadb'] } = ctx.plan.nothingLost;
  const out: NothingLostRun[] = [];
  for (const store of stores) {
    const id = `lost-${store}-${connections}`;
    ctx.log(`${id}: botbridge, closed loop, ${connections} connections, ${durationMs / 1000} s, ${store}, ${cooldownMs / 1000} s cool-down`);
    const url = ctx.plan.mariadb.url;
    if (store === 'mariadb') {
      try {
        await recreateDatabase(url);
      } catch (error) {
        ctx.log(`  ${id}: MariaDB not available, skipped (${(error as Error).message.split('\n')[0]})`);
        continue;
      }
    }
    const spec: LoadSpec = {
      label: id,
      mode: 'closed',
      connections,
      window: ctx.plan.closedLoop.window,
      ratePerSec: 0,
      durationMs,
      cooldownMs,
      heapSnapshots: heapSnapshots === true,
      ...(store === 'mariadb' ? { storeUrl: url, prepareStore: () => recreateDatabase(url) } : {}),
    };
    const run = await runLoad(ctx, 'botbridge', spec);
    ctx.log(`  ${id}: ${describeRun(run)}; chat log ${run.chatLog ? `${run.chatLog.written}/${run.chatLog.due} rows, ${run.chatLog.dropped} dropped` : 'not counted'}`);
    const figures: LoadFigures = poolRuns([run]);
    out.push({ id, store, connections, durationMs, botbridge: figures, reference: referenceFigures(store, connections) });
  }
  return out;
}
