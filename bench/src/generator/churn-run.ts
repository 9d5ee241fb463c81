import type { IpcChannel } from '../ipc/channel.js';
import { BenchConnection, emptyCounts, type LoadSink } from './bench-connection.js';
import { laneIdentity } from './identities.js';
import type { CheckpointMessage, ChurnDoneMessage, ChurnTask } from './messages.js';
import { SampleBuffer } from './samples.js';

/**
 * Connect → handshake → disconnect, `cycles` times over `lanes` parallel lanes, each lane one
 * phone reconnecting. At every `checkpointEvery` cycles all lanes stop, the coordinator reads
 * the server's memory and handles, then the run continues.
 */
export async function runChurnTask(task: ChurnTask, channel: IpcChannel): Promise<void> {
  const sink: LoadSink = { counts: emptyCounts(), latencies: new SampleBuffer(16), window: { start: 0, end: 0 } };
  const handshakeMs = new SampleBuffer(Math.max(16, task.cycles));
  const cpuStart = process.cpuUsage();
  let started = 0;
  let done = 0;
  let failures = 0;
  let firstFailure: string | null = null;
  let activeMs = 0;

  const lane = async (laneIndex: number, target: number) => {
    const identity = laneIdentity(task.firstLane + laneIndex);
    while (started < target) {
      started += 1;
      const t0 = performance.now();
      const conn = new BenchConnection(task.port, identity, 'x', sink);
      const outcome = await conn.handshake;
      if (outcome.ok) handshakeMs.push(performance.now() - t0);
      else {
        failures += 1;
        firstFailure ??= outcome.reason;
      }
      await conn.close();
      done += 1;
    }
  };

  while (done < task.cycles) {
    const target = Math.min(task.cycles, done + task.checkpointEvery);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: task.lanes }, (_, i) => lane(i, target)));
    activeMs += performance.now() - t0;
    if (done < task.cycles) {
      await channel.send({ type: 'checkpoint', cycles: done } satisfies CheckpointMessage);
      await channel.next('continue');
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  await channel.send({
    type: 'churn-done',
    cycles: done,
    failures,
    firstFailure,
    activeMs,
    handshakeMs: handshakeMs.toArray(),
    cpuMicros: cpu.user + cpu.system,
  } satisfies ChurnDoneMessage);
}
