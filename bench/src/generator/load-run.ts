import type { IpcChannel } from '../ipc/channel.js';
import { emptyCounts, type LoadSink } from './bench-connection.js';
import { closeConnections, connectAndReport } from './connect-pool.js';
import { driveClosedLoop, driveOpenLoop } from './load-drivers.js';
import type { GoMessage, LoadResultMessage, LoadTask } from './messages.js';
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
  const opened = await connectAndReport(task, 'load', 'c', sink, channel);

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
  // The phones stay connected after the load, as real ones do, while the server cools down.
  if (task.holdAfterMs) await new Promise((resolve) => setTimeout(resolve, task.holdAfterMs));
  await closeConnections(opened.conns);
}
