import { concatSamples, percentiles } from '../generator/samples.js';
import { split, withWorkers } from '../generator/generator-pool.js';
import type { ConnectedMessage, HeldMessage, IdleTask } from '../generator/messages.js';
import type { ServerStats } from '../servers/server-ipc.js';
import type { ServerKind } from '../servers/server-process.js';
import type { IdleComparison, IdleFigures } from '../report/results-types.js';
import { sumCounts } from './load-run.js';
import { sleep, type BenchContext } from './bench-context.js';

/** Pings the server sent and ping answers it accepted, from either server's counters. */
function pingCounters(kind: ServerKind, stats: ServerStats): { sent: number; recorded: number } {
  const counters = (stats.app.counters ?? {}) as Record<string, number>;
  if (kind === 'echo') return { sent: counters.pingsSent ?? 0, recorded: counters.pingsAnswered ?? 0 };
  return { sent: counters['packets_out{ping}'] ?? 0, recorded: counters.pings_answered ?? 0 };
}

const cpuMicros = (s: ServerStats) => s.cpu.user + s.cpu.system;

/**
 * N idle connections: how fast they handshake, what each costs in server RSS (after a full GC,
 * before vs after), and whether every ping goes out on time and every answer is recorded while
 * they sit idle. The ping interval is shortened (plan.idle.pingIntervalMs) so a hold of seconds
 * covers several pings per connection.
 */
export async function idleScenario(ctx: BenchContext): Promise<IdleComparison> {
  const p = ctx.plan.idle;
  const missedAfterMs = Math.max(p.pingIntervalMs, p.pingJitterMs) + 1_000;
  ctx.log(`idle: ${p.connections} connections, pings every ${p.pingIntervalMs} ms, hold ${p.holdMs} ms`);
  const figures: Partial<Record<ServerKind, IdleFigures>> = {};
  for (const kind of ['echo', 'botbridge'] as const) {
    figures[kind] = await idleRun(ctx, kind, missedAfterMs);
    const f = figures[kind]!;
    ctx.log(
      `  idle ${kind}: ${Math.round(f.handshakesPerSec)} handshakes/s, ${Math.round(f.rssPerConnectionBytes)} B RSS/conn, ` +
        `missed pings ${f.missedPings}, max gap ${Math.round(f.maxPingGapMs)} ms, failures ${f.failures}`,
    );
  }
  return { holdMs: p.holdMs, pingIntervalMs: p.pingIntervalMs, pingJitterMs: p.pingJitterMs, missedAfterMs, echo: figures.echo!, botbridge: figures.botbridge! };
}

/** `profileFile`: the server's CPU profile of the connect phase (all handshakes) is written there. */
export async function idleRun(ctx: BenchContext, kind: ServerKind, missedAfterMs: number, profileFile?: string): Promise<IdleFigures> {
  const p = ctx.plan.idle;
  const workers = p.connections >= 5_000 ? 2 : 1;
  const { server } = await ctx.startServer(kind, 'idle', {
    maxConnections: p.connections + 100,
    maxHandshaking: p.connectConcurrency * workers + 50,
    pingIntervalMs: p.pingIntervalMs,
    pingJitterMs: p.pingJitterMs,
  });
  try {
    // Start-up garbage (module loading, migrations) is still in RSS at the first GC; a second GC
    // a moment later gives the baseline the connections are measured against.
    await server.stats(true);
    await sleep(500);
    const before = await server.stats(true);
    if (profileFile) await server.startProfile();
    const tasks: IdleTask[] = split(p.connections, workers).map(({ first, count }) => ({
      type: 'idle', port: server.port, first, count, connectConcurrency: p.connectConcurrency,
    }));
    return await withWorkers(tasks, async (gens) => {
      const connected = await Promise.all(gens.map((g) => g.next<ConnectedMessage>('connected', 300_000)));
      if (profileFile) await server.stopProfile(profileFile);
      const opened = connected.reduce((n, c) => n + c.opened, 0);
      const startedAt = Math.min(...connected.map((c) => c.startedAtEpoch));
      const doneAt = Math.max(...connected.map((c) => c.doneAtEpoch));
      const after = await server.stats(true);
      const holdStart = await server.stats();
      await Promise.all(gens.map((g) => g.send({ type: 'hold', holdMs: p.holdMs, missedAfterMs })));
      const held = await Promise.all(gens.map((g) => g.next<HeldMessage>('held', p.holdMs + 120_000)));
      const holdEnd = await server.stats();
      // Answers written at the end of the hold are still on the wire; give them a moment.
      await sleep(500);
      const final = pingCounters(kind, await server.stats());
      await Promise.all(gens.map((g) => g.send({ type: 'close' })));
      await Promise.all(gens.map((g) => g.next('closed', 120_000)));
      const counts = sumCounts(held.map((h) => h.counts));
      const totalAnswered = held.reduce((n, h) => n + h.totalAnswered, 0);
      return {
        connections: opened,
        failures: connected.reduce((n, c) => n + c.failures, 0),
        firstFailure: connected.find((c) => c.firstFailure)?.firstFailure ?? null,
        handshakesPerSec: opened / ((doneAt - startedAt) / 1000),
        handshakeMs: percentiles(concatSamples(connected.map((c) => c.handshakeMs))),
        rssBeforeBytes: before.memory.rss,
        rssAfterBytes: after.memory.rss,
        rssPerConnectionBytes: (after.memory.rss - before.memory.rss) / opened,
        heapPerConnectionBytes: (after.memory.heapUsed - before.memory.heapUsed) / opened,
        pingsSentByServer: pingCounters(kind, holdEnd).sent - pingCounters(kind, holdStart).sent,
        pingsReceived: counts.pingsReceived,
        pingsAnswered: totalAnswered,
        answersRecordedByServer: final.recorded,
        missedPings: held.reduce((n, h) => n + h.missedPings, 0) + Math.max(0, totalAnswered - final.recorded),
        maxPingGapMs: Math.max(...held.map((h) => h.maxGapMs)),
        pingDelayMs: percentiles(concatSamples(held.map((h) => h.pingDelayMs))),
        closedByServer: counts.closedByServer,
        serverCpuDuringHold: (cpuMicros(holdEnd) - cpuMicros(holdStart)) / 1000 / p.holdMs,
        generatorCpuDuringHold: held.reduce((n, h) => n + h.cpuMicros, 0) / 1000 / p.holdMs,
      };
    });
  } finally {
    await server.stop();
  }
}
