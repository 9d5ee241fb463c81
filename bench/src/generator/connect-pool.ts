import { BenchConnection, type LoadSink } from './bench-connection.js';
import { SampleBuffer } from './samples.js';
import type { IpcChannel } from '../ipc/channel.js';
import type { BenchIdentity } from '../protocol/wire.js';
import { identityFor } from './identities.js';
import type { ConnectedMessage } from './messages.js';

export interface OpenedConnections {
  readonly conns: BenchConnection[];
  /** connect start → handshakeComplete, per successful connection (ms). */
  readonly handshakeMs: SampleBuffer;
  readonly failures: number;
  /** Handshakes answered `approved: false`: such a device gets no replies (a broken bench setup). */
  readonly notApproved: number;
  readonly firstFailure: string | null;
  /** performance.now() of the first connect and of the last handshake answer. */
  readonly startedAt: number;
  readonly doneAt: number;
}

/**
 * Opens `count` connections with at most `concurrency` of them connecting or handshaking at
 * once (below the server's handshake cap, so no refusals are self-inflicted). Failed ones are
 * closed and counted, not retried.
 */
export async function openConnections(
  port: number,
  count: number,
  concurrency: number,
  identity: (i: number) => { identity: BenchIdentity; tag: string },
  sink: LoadSink,
): Promise<OpenedConnections> {
  const conns: BenchConnection[] = [];
  const handshakeMs = new SampleBuffer(Math.max(16, count));
  let failures = 0;
  let notApproved = 0;
  let firstFailure: string | null = null;
  let next = 0;
  const startedAt = performance.now();
  let doneAt = startedAt;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const { identity: id, tag } = identity(i);
      const t0 = performance.now();
      const conn = new BenchConnection(port, id, tag, sink);
      const outcome = await conn.handshake;
      doneAt = performance.now();
      if (outcome.ok) {
        handshakeMs.push(doneAt - t0);
        if (!outcome.approved) notApproved += 1;
        conns.push(conn);
      } else {
        failures += 1;
        firstFailure ??= outcome.reason;
        await conn.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { conns, handshakeMs, failures, notApproved, firstFailure, startedAt, doneAt };
}

/** Closes every connection (FIN), `concurrency` at a time. */
export async function closeConnections(conns: readonly BenchConnection[], concurrency = 500): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < conns.length) await conns[next++]!.close();
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, conns.length) }, lane));
}

/**
 * A worker's opening move in every scenario: open its share of the connections (identities
 * `<kind>` numbered from `first`, tags `<tagPrefix><n>`, all on `protocol`) and report them to the coordinator.
 */
export async function connectAndReport(
  task: { readonly port: number; readonly first: number; readonly count: number; readonly connectConcurrency: number; readonly protocol?: '3.2' | '3.3' },
  kind: 'load' | 'idle',
  tagPrefix: string,
  sink: LoadSink,
  channel: IpcChannel,
): Promise<OpenedConnections> {
  const opened = await openConnections(
    task.port,
    task.count,
    task.connectConcurrency,
    (i) => ({ identity: { ...identityFor(kind, task.first + i), protocol: task.protocol ?? '3.2' }, tag: `${tagPrefix}${task.first + i}` }),
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
  return opened;
}
