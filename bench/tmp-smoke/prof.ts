import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchContext } from '../src/scenarios/bench-context.js';
import { runLoad } from '../src/scenarios/load-run.js';
import { churnRun } from '../src/scenarios/churn-scenario.js';
import { quickPlan } from '../src/plan.js';
const ctx = new BenchContext({ ...quickPlan, durationMs: 8000 }, mkdtempSync(join(tmpdir(), 'bb-bench-')));
if (process.argv[2] === 'churn') {
  const r = await churnRun(ctx, 'botbridge', { cycles: 10000, checkpointEvery: 10000, cpuProfile: true });
  console.log(r.cyclesPerSec, r.profileFile);
} else {
  const n = Number(process.argv[2] ?? 100);
  const r = await runLoad(ctx, 'botbridge', { label: 'prof', mode: 'closed', connections: n, window: 1, ratePerSec: 0, cpuProfile: true });
  console.log(r.repliesPerSec, r.profileFile);
}
