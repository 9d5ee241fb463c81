import type { IpcChannel } from '../ipc/channel.js';
import { emptyCounts, type LoadSink } from './bench-connection.js';
import { closeConnections, openConnections } from './connect-pool.js';
import { identityFor } from './identities.js';
import { driveClosedLoop, driveOpenLoop } from './load-drivers.js';
import type { ConnectedMessage, GoMessage, LoadResultMessage, LoadTask } from './messages.js';
import { SampleBuffer } from './samples.js';

/** performance.now() at a wall-clock time (same machine, so one offset is exact enough). */
export function perfAt(epochMs: number): number {
  return performance.now() + (epochMs - Date.now());
}

const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;

/**
 * A worker's part of a closed- or open-loop run: connect and handshake, report, wait for the
 * shared window, drive load, drain, report counts, samples and the worker's own CPU time.
 */
export async function runLoadTask(task: LoadTask, channel: IpcChannel): Promise<void> {
  const sink: LoadSink = {
    counts: emptyCounts(),
    latencies: new SampleBuffer(1 << 18),
    window: { start: Number.POSITIVE_INFINITY, end: Number.NEGATIVE_INFINITY },
  };
  const opened = await openConnections(
    task.port,
    task.count,
    task.connectConcurrency,
    (i) => ({ identity: identityFor('load', task.first + i), tag: `c${task.first + i}` }),
    sink,
  );
  await channel.send({
    type: 'connected',
    opened: opened.conns.length,
    failures: opened.failures,
    notApproved: opened.notApproved,
    firstFailure: opened.firstFailure,
    handshakeMs: opened.handshakeMs.toArray(),
    startedAtEpoch: Date.now() - (performance.now() - opened.startedAt),
    doneAtEpoch: Date.now() - (performance.now() - opened.doneAt),
  } satisfies ConnectedMessage);

  const go = await channel.next<GoMessage>('go');
  const loadStart = perfAt(go.loadStartEpoch);
  sink.window.start = perfAt(go.measureStartEpoch);
  sink.window.end = perfAt(go.measureEndEpoch);
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpuInWindow = 0;
  const startTimer = setTimeout(() => (cpuAtStart = process.cpuUsage()), Math.max(0, sink.window.start - performance.now()));
  const endTimer = setTimeout(() => {
    if (cpuAtStart) cpuInWindow = cpuMicros(process.cpuUsage(cpuAtStart));
  }, Math.max(0, sink.window.end - performance.now()));

  const sendLag = new SampleBuffer();
  const options = { stopAt: sink.window.end, timeoutMs: task.timeoutMs, drainMs: task.drainMs };
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, loadStart - performance.now())));
  if (task.mode === 'closed') await driveClosedLoop(opened.conns, task.window, options);
  else await driveOpenLoop(opened.conns, task.ratePerSec, performance.now(), { ...options, sendLag, window: sink.window });
  clearTimeout(startTimer);
  clearTimeout(endTimer);

  await channel.send({
    type: 'load-result',
    counts: sink.counts,
    latencies: sink.latencies.toArray(),
    sendLag: sendLag.toArray(),
    cpuMicros: cpuInWindow,
    windowMs: sink.window.end - sink.window.start,
  } satisfies LoadResultMessage);
  await closeConnections(opened.conns);
}
