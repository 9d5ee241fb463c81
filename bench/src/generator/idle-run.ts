import type { IpcChannel } from '../ipc/channel.js';
import { emptyCounts, type BenchConnection, type LoadSink } from './bench-connection.js';
import { closeConnections, connectAndReport } from './connect-pool.js';
import type { HeldMessage, HoldMessage, IdleTask } from './messages.js';
import { SampleBuffer } from './samples.js';

/**
 * Idle connections: open them all, then only answer pings while the coordinator measures the
 * server. During the hold every gap between pings of a connection is checked (the hold's start
 * and end count as pings), so a ping the server failed to send on time shows as a missed one.
 */
export async function runIdleTask(task: IdleTask, channel: IpcChannel): Promise<void> {
  const sink: LoadSink = { counts: emptyCounts(), latencies: new SampleBuffer(16), window: { start: 0, end: 0 } };
  const opened = await connectAndReport(task, 'idle', 'i', sink, channel);

  const hold = await channel.next<HoldMessage>('hold');
  const cpuStart = process.cpuUsage();
  const holdStart = performance.now();
  const lastPing = new Map<BenchConnection, number>();
  const pingDelayMs = new SampleBuffer(1 << 16);
  let missedPings = 0;
  let maxGapMs = 0;
  const gap = (ms: number) => {
    if (ms > maxGapMs) maxGapMs = ms;
    if (ms > hold.missedAfterMs) missedPings += Math.floor(ms / hold.missedAfterMs);
  };
  const countsAtStart = { ...sink.counts };
  for (const conn of opened.conns) {
    lastPing.set(conn, holdStart);
    conn.onPing = (c, at, serverTimestamp) => {
      gap(at - (lastPing.get(c) ?? holdStart));
      lastPing.set(c, at);
      pingDelayMs.push(Date.now() - serverTimestamp);
    };
  }
  await new Promise((resolve) => setTimeout(resolve, hold.holdMs));
  const holdEnd = performance.now();
  for (const conn of opened.conns) {
    conn.onPing = undefined;
    conn.answerPings = false;
    // A connection the server closed during the hold has missed every later ping.
    gap(holdEnd - (lastPing.get(conn) ?? holdStart));
  }
  const cpu = process.cpuUsage(cpuStart);
  const c = sink.counts;
  await channel.send({
    type: 'held',
    counts: {
      ...c,
      pingsReceived: c.pingsReceived - countsAtStart.pingsReceived,
      pingsAnswered: c.pingsAnswered - countsAtStart.pingsAnswered,
      closedByServer: c.closedByServer - countsAtStart.closedByServer,
    },
    totalAnswered: c.pingsAnswered,
    missedPings,
    maxGapMs,
    pingDelayMs: pingDelayMs.toArray(),
    cpuMicros: cpu.user + cpu.system,
  } satisfies HeldMessage);

  await channel.next('close');
  await closeConnections(opened.conns);
  await channel.send({ type: 'closed' });
}
