import type { ProfileSummary } from '../report/results-types.js';
import { summarizeProfileFile } from '../profile/summarize-profile.js';
import type { BenchContext } from './bench-context.js';
import { churnRun } from './churn-scenario.js';
import { runLoad } from './load-run.js';

/**
 * Extra botbridge runs with the sampling profiler on: the closed-loop message path and the
 * handshake path (churn). Summaries go into the results; the raw `.cpuprofile` files stay in
 * the run's temp directory (paths logged) for Chrome DevTools or speedscope.
 */
export async function profileScenarios(ctx: BenchContext): Promise<ProfileSummary[]> {
  const p = ctx.plan.profile;
  if (!p) return [];
  const out: ProfileSummary[] = [];
  const connections = p.closedLoopConnections;
  ctx.log(`profile: botbridge, closed loop, ${connections} connections`);
  const load = await runLoad(ctx, 'botbridge', {
    label: 'profile-closed', mode: 'closed', connections, window: ctx.plan.closedLoop.window, ratePerSec: 0, cpuProfile: true,
  });
  ctx.log(`  ${Math.round(load.repliesPerSec)} replies/s while profiled; profile ${load.profileFile}`);
  out.push(summarizeProfileFile(load.profileFile!, `Closed loop, ${connections} connections, SQLite (${Math.round(load.repliesPerSec)} replies/s while profiled)`));

  ctx.log(`profile: botbridge, churn, ${p.churnCycles} cycles`);
  const churn = await churnRun(ctx, 'botbridge', { cycles: p.churnCycles, checkpointEvery: p.churnCycles, cpuProfile: true });
  ctx.log(`  ${Math.round(churn.cyclesPerSec)} cycles/s while profiled; profile ${churn.profileFile}`);
  out.push(summarizeProfileFile(churn.profileFile!, `Churn, ${p.churnCycles} connect/handshake/disconnect cycles (${Math.round(churn.cyclesPerSec)} cycles/s while profiled)`));
  return out;
}
