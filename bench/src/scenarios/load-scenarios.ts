import type { ServerKind } from '../servers/server-process.js';
import type { LoadComparison, LoadFigures } from '../report/results-types.js';
import type { BenchContext } from './bench-context.js';
import { poolRuns, runLoad, type LoadRun, type LoadSpec } from './load-run.js';

/**
 * Runs one load scenario against both servers, `rounds` times, alternating which server goes
 * first (echo, botbridge, then botbridge, echo, ...) so slow drift of a shared machine hits both
 * alike. Returns the pooled figures and botbridge ÷ echo.
 */
export async function compareLoad(
  ctx: BenchContext,
  spec: LoadSpec,
  meta: Pick<LoadComparison, 'id' | 'store' | 'offeredFraction'>,
): Promise<LoadComparison> {
  const runs: Record<ServerKind, LoadRun[]> = { echo: [], botbridge: [] };
  for (let round = 0; round < ctx.plan.rounds; round += 1) {
    const order: ServerKind[] = round % 2 === 0 ? ['echo', 'botbridge'] : ['botbridge', 'echo'];
    for (const kind of order) {
      const run = await runLoad(ctx, kind, spec);
      runs[kind].push(run);
      ctx.log(`  ${meta.id} ${kind} r${round + 1}: ${describeRun(run)}`);
    }
  }
  const echo = poolRuns(runs.echo);
  const botbridge = poolRuns(runs.botbridge);
  return {
    ...meta,
    mode: spec.mode,
    connections: spec.connections,
    window: spec.mode === 'closed' ? spec.window : null,
    offeredRate: spec.mode === 'open' ? spec.ratePerSec : null,
    echo,
    botbridge,
    ratio: ratios(echo, botbridge),
  };
}

function ratios(echo: LoadFigures, botbridge: LoadFigures): LoadComparison['ratio'] {
  return {
    throughput: botbridge.repliesPerSec / echo.repliesPerSec,
    p50: botbridge.latency.p50 / echo.latency.p50,
    p99: botbridge.latency.p99 / echo.latency.p99,
  };
}

export function describeRun(run: LoadRun): string {
  const sorted = run.latencies.slice().sort();
  const p = (q: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  const c = run.counts;
  const problems = c.timeouts + c.duplicates + c.orderViolations + c.unknownReplies + c.late;
  return (
    `${Math.round(run.repliesPerSec)} replies/s, p50 ${p(0.5).toFixed(2)} ms, p99 ${p(0.99).toFixed(2)} ms, ` +
    `server ${run.serverCpu.toFixed(2)} cores, generator ${run.generatorCpu.toFixed(2)}, others ${run.otherCpu.toFixed(2)}` +
    (problems > 0 ? `, timeouts ${c.timeouts} late ${c.late} dup ${c.duplicates} order ${c.orderViolations} unknown ${c.unknownReplies}` : '')
  );
}

/** 1, 10, 100, 1,000 connections, `window` in flight each. */
export async function closedLoopScenarios(
  ctx: BenchContext,
  store: 'sqlite' | 'mariadb',
  storeUrl?: string,
  prepareStore?: () => Promise<void>,
): Promise<LoadComparison[]> {
  const out: LoadComparison[] = [];
  for (const connections of store === 'sqlite' ? ctx.plan.closedLoop.connections : ctx.plan.mariadb.connections) {
    const id = `closed-${store}-${connections}`;
    ctx.log(`${id}: closed loop, ${connections} connections, ${ctx.plan.closedLoop.window} in flight each, ${store}`);
    const spec: LoadSpec = { label: id, mode: 'closed', connections, window: ctx.plan.closedLoop.window, ratePerSec: 0, storeUrl, prepareStore };
    out.push(await compareLoad(ctx, spec, { id, store, offeredFraction: null }));
  }
  return out;
}

/** Fixed total rates at fractions of botbridge's measured capacity; both servers get the same rates. */
export async function openLoopScenarios(ctx: BenchContext, capacity: number): Promise<LoadComparison[]> {
  const out: LoadComparison[] = [];
  const { connections, loads } = ctx.plan.openLoop;
  for (const fraction of loads) {
    const rate = Math.max(1, Math.round(capacity * fraction));
    const id = `open-${Math.round(fraction * 100)}`;
    ctx.log(`${id}: open loop, ${rate} req/s (${Math.round(fraction * 100)}% of ${Math.round(capacity)}), ${connections} connections`);
    const spec: LoadSpec = { label: id, mode: 'open', connections, window: 0, ratePerSec: rate };
    out.push(await compareLoad(ctx, spec, { id, store: 'sqlite', offeredFraction: fraction }));
  }
  return out;
}
