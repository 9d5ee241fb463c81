import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchContext } from '/work/main/bench/src/scenarios/bench-context.js';
import { closedLoopScenarios } from '/work/main/bench/src/scenarios/load-scenarios.js';
import { quickPlan } from '/work/main/bench/src/plan.js';
const ctx = new BenchContext({ ...quickPlan, closedLoop: { connections: [Number(process.argv[2] ?? 1)], window: 1 } }, mkdtempSync(join(tmpdir(), 'bb-bench-')));
const r = await closedLoopScenarios(ctx, 'sqlite');
console.log(JSON.stringify(r.map(x => ({ e: x.echo.repliesPerSec, b: x.botbridge.repliesPerSec, el: x.echo.latency, bl: x.botbridge.latency, ratio: x.ratio, bc: x.botbridge.counts })), null, 1));
