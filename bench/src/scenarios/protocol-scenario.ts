import type { LoadFigures, ProtocolCost } from '../report/results-types.js';
import type { BenchContext } from './bench-context.js';
import { describeRun } from './load-scenarios.js';
import { poolRuns, runLoad, type LoadRun, type LoadSpec } from './load-run.js';

export type ProtocolLine = '3.2' | '3.3';

/**
 * What protocol v3.3 costs against v3.2 (issue 12). botbridge alone (the echo baseline speaks
 * v3.2 only), closed loop at `connections` with the default Domaeka config (SQLite, chat log on):
 * one run with every phone on v3.2, one with every phone on v3.3, `rounds` times, alternating
 * which goes first so a machine warming up or a neighbour arriving does not favour one line. Each
 * run gets a fresh server, so neither line inherits the other's JIT state, caches or store.
 */
export async function protocolCostScenario(ctx: BenchContext): Promise<ProtocolCost> {
  const { connections, window, rounds } = ctx.plan.protocolCost;
  ctx.log(`protocols: closed loop, ${connections} connections, window ${window}, botbridge with every phone on v3.2 then on v3.3, ${rounds} round(s)`);
  const runs: Record<ProtocolLine, LoadRun[]> = { '3.2': [], '3.3': [] };
  for (let round = 0; round < rounds; round += 1) {
    const order: ProtocolLine[] = round % 2 === 0 ? ['3.2', '3.3'] : ['3.3', '3.2'];
    for (const protocol of order) {
      const spec: LoadSpec = { label: `protocol-v${protocol}`, mode: 'closed', connections, window, ratePerSec: 0, protocol };
      const run = await runLoad(ctx, 'botbridge', spec);
      runs[protocol].push(run);
      ctx.log(`  protocol v${protocol} r${round + 1}: ${describeRun(run)}, ${usPerReplyOf(run).toFixed(0)} µs CPU per reply`);
    }
  }
  const result = protocolCost(connections, window, rounds, poolRuns(runs['3.2']), poolRuns(runs['3.3']));
  ctx.log(
    `  v3.3 ÷ v3.2: CPU per reply ×${result.ratio.cpuPerReply.toFixed(3)}, replies/s ×${result.ratio.throughput.toFixed(3)}, ` +
      `p50 ×${result.ratio.p50.toFixed(2)}, p99 ×${result.ratio.p99.toFixed(2)}`,
  );
  return result;
}

const usPerReplyOf = (f: { serverCpu: number; repliesPerSec: number }) => (f.repliesPerSec > 0 ? (f.serverCpu * 1e6) / f.repliesPerSec : Number.NaN);

/** Pure: the pooled figures of both lines and v3.3 ÷ v3.2. */
export function protocolCost(connections: number, window: number, rounds: number, v32: LoadFigures, v33: LoadFigures): ProtocolCost {
  return {
    connections,
    window,
    rounds,
    v32,
    v33,
    ratio: {
      throughput: v33.repliesPerSec / v32.repliesPerSec,
      p50: v33.latency.p50 / v32.latency.p50,
      p99: v33.latency.p99 / v32.latency.p99,
      cpuPerReply: usPerReplyOf(v33) / usPerReplyOf(v32),
    },
  };
}
