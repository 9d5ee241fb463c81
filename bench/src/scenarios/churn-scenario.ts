import { join } from 'node:path';
import { percentiles } from '../generator/samples.js';
import { withWorkers } from '../generator/generator-pool.js';
import type { CheckpointMessage, ChurnDoneMessage, ChurnTask } from '../generator/messages.js';
import type { ServerStats } from '../servers/server-ipc.js';
import type { ServerKind } from '../servers/server-process.js';
import type { ChurnCheckpoint, ChurnComparison, ChurnFigures } from '../report/results-types.js';
import { sleep, type BenchContext } from './bench-context.js';

function checkpoint(cycles: number, stats: ServerStats): ChurnCheckpoint {
  return {
    cycles,
    rssBytes: stats.memory.rss,
    heapUsedBytes: stats.memory.heapUsed,
    handles: stats.resources,
    connections: Number(stats.app.connections ?? 0),
  };
}

/** Handle kinds whose count changed between two snapshots. */
function handleDiff(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[kind] ?? 0) - (before[kind] ?? 0);
    if (d !== 0) diff[kind] = d;
  }
  return diff;
}

/** Lets close timers and the store's background writes settle before a snapshot. */
const SETTLE_MS = 300;
/** Longer than botbridge's close grace (2 s), so every socket it half-closed is gone. */
const FINAL_SETTLE_MS = 3_000;

/**
 * Connect/handshake/disconnect cycles: memory and handles before, at every checkpoint (all
 * lanes stopped, full GC) and after. A leak shows as RSS or heap rising checkpoint after
 * checkpoint, or handles left after the last socket closed.
 */
export async function churnScenario(ctx: BenchContext): Promise<ChurnComparison> {
  const p = ctx.plan.churn;
  ctx.log(`churn: ${p.cycles} connect/handshake/disconnect cycles, ${p.lanes} lanes`);
  const figures: Partial<Record<ServerKind, ChurnFigures>> = {};
  for (const kind of ['echo', 'botbridge'] as const) {
    const f = await churnRun(ctx, kind, { cycles: p.cycles, checkpointEvery: p.checkpointEvery });
    figures[kind] = f;
    ctx.log(
      `  churn ${kind}: ${Math.round(f.cyclesPerSec)} cycles/s, RSS ${mib(f.checkpoints[0]?.rssBytes ?? 0)} → ${mib(f.after.rssBytes)} MiB ` +
        `(${f.rssGrowthPercent.toFixed(1)}%), handles left ${JSON.stringify(f.leakedHandles)}, failures ${f.failures}`,
    );
  }
  return { lanes: p.lanes, echo: figures.echo!, botbridge: figures.botbridge! };
}

const mib = (bytes: number) => (bytes / 1_048_576).toFixed(1);

export interface ChurnRunOptions {
  readonly cycles: number;
  readonly checkpointEvery: number;
  /** Profile the server over all cycles (checkpoints then include full GCs: use one checkpoint). */
  readonly cpuProfile?: boolean;
}

export async function churnRun(ctx: BenchContext, kind: ServerKind, options: ChurnRunOptions): Promise<ChurnFigures & { profileFile: string | null }> {
  const { lanes } = ctx.plan.churn;
  const { cycles, checkpointEvery } = options;
  const { server, dir } = await ctx.startServer(kind, 'churn', { maxConnections: lanes + 100, maxHandshaking: lanes + 50 });
  const profileFile = options.cpuProfile ? join(dir, 'churn.cpuprofile') : null;
  try {
    const before = checkpoint(0, await server.stats(true));
    const task: ChurnTask = { type: 'churn', port: server.port, firstLane: 0, lanes, cycles, checkpointEvery };
    if (profileFile) await server.startProfile();
    return await withWorkers([task], async ([gen]) => {
      const checkpoints: ChurnCheckpoint[] = [];
      for (;;) {
        const message = await gen!.next<CheckpointMessage | ChurnDoneMessage>(['checkpoint', 'churn-done'], 600_000);
        if (message.type === 'churn-done') {
          if (profileFile) await server.stopProfile(profileFile);
          await sleep(FINAL_SETTLE_MS);
          const after = checkpoint(message.cycles, await server.stats(true));
          checkpoints.push(after);
          const reference = checkpoints[0]!;
          return {
            cycles: message.cycles,
            failures: message.failures,
            firstFailure: message.firstFailure,
            cyclesPerSec: message.cycles / (message.activeMs / 1000),
            handshakeMs: percentiles(message.handshakeMs),
            before,
            checkpoints,
            after,
            rssGrowthPercent: ((after.rssBytes - reference.rssBytes) / reference.rssBytes) * 100,
            leakedHandles: handleDiff(before.handles, after.handles),
            profileFile,
          };
        }
        await sleep(SETTLE_MS);
        checkpoints.push(checkpoint(message.cycles, await server.stats(true)));
        await gen!.send({ type: 'continue' });
      }
    });
  } finally {
    await server.stop();
  }
}
