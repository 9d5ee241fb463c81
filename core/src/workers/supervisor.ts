import cluster, { type Worker } from 'node:cluster';
import { flushLogger, type CoreLogger } from '../logger.js';
import type { WorkerSlot } from './worker-plan.js';

export interface SupervisorOptions {
  readonly slots: readonly WorkerSlot[];
  /** The command-line arguments of worker `slot` (after the script path): `start …` without `--workers`. */
  readonly argsOf: (slot: WorkerSlot) => string[];
  readonly log: CoreLogger;
  /** A worker that died is started again after this long, doubling per quick death up to `maxRestartDelayMs`. */
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
}

/** A worker that ran this long before dying starts its next life with the first restart delay again. */
const STABLE_AFTER_MS = 60_000;
/** A second signal this soon after the first is the same request (as in stop-signals.ts). */
const SAME_REQUEST_MS = 1_000;

interface Life {
  worker: Worker;
  startedAt: number;
  quickDeaths: number;
}

/**
 * `botbridge start --workers N`: this process becomes a supervisor (node:cluster primary) and
 * runs N cluster nodes as workers of one service. Why node:cluster and not plain child
 * processes: the workers share the phones' port (the primary accepts and hands each new
 * connection to the next worker, round-robin), so one `SERVER_LIST` entry reaches every worker
 * and a phone whose worker died reconnects to the same address and lands on a live one. After
 * the hand-over the socket belongs to the worker: the primary costs one fd pass per connection,
 * nothing per message. Each worker is an ordinary `botbridge start --cluster … --node-id
 * <base>-w<i>` (a full node: its own store pool, NATS connection, lease and admin server).
 *
 * Signals: SIGTERM/SIGINT stop every worker (each drains as on its own SIGTERM) and the
 * supervisor exits when they have, 0 when every worker exited 0. A second signal (more than 1 s
 * later) is passed on: workers then exit at once. A worker that dies on its own is started
 * again with the same node id after a delay (1 s, doubling per quick death up to 30 s); while
 * it is away, the others take over its phones; the new run claims its dead run's journal rows.
 */
export function runSupervisor(options: SupervisorOptions): Promise<number> {
  const { log } = options;
  const firstDelay = options.restartDelayMs ?? 1_000;
  const maxDelay = options.maxRestartDelayMs ?? 30_000;
  const lives = new Map<number, Life>();
  const restartTimers = new Set<NodeJS.Timeout>();
  let stopping = false;
  let stopAt = 0;
  let failedExit = false;

  return new Promise<number>((resolve) => {
    const finishIfDone = () => {
      if (!stopping || lives.size > 0) return;
      process.off('SIGTERM', request);
      process.off('SIGINT', request);
      log.info({ failed: failedExit }, 'every worker stopped');
      void flushLogger(log).then(() => resolve(failedExit ? 1 : 0));
    };

    const fork = (slot: WorkerSlot, quickDeaths: number) => {
      cluster.setupPrimary({ exec: process.argv[1]!, args: options.argsOf(slot), execArgv: process.execArgv });
      const worker = cluster.fork({ BOTBRIDGE_WORKER_INDEX: String(slot.index), BOTBRIDGE_NODE_ID: slot.nodeId });
      const life: Life = { worker, startedAt: Date.now(), quickDeaths };
      lives.set(slot.index, life);
      log.info({ worker: slot.index, nodeId: slot.nodeId, pid: worker.process.pid }, 'worker started');
      worker.on('exit', (code, signal) => {
        if (lives.get(slot.index) === life) lives.delete(slot.index);
        if (stopping) {
          if (code !== 0) failedExit = true;
          log.info({ worker: slot.index, nodeId: slot.nodeId, code, signal }, 'worker stopped');
          finishIfDone();
          return;
        }
        const ranMs = Date.now() - life.startedAt;
        const deaths = ranMs >= STABLE_AFTER_MS ? 0 : life.quickDeaths + 1;
        const delayMs = Math.min(maxDelay, firstDelay * 2 ** Math.max(0, deaths - 1));
        log.error({ worker: slot.index, nodeId: slot.nodeId, code, signal, ranMs, restartInMs: delayMs }, 'worker died; starting it again');
        const timer = setTimeout(() => {
          restartTimers.delete(timer);
          if (!stopping) fork(slot, deaths);
        }, delayMs);
        restartTimers.add(timer);
      });
    };

    const request = (signal: NodeJS.Signals) => {
      const now = performance.now();
      if (stopping) {
        if (now - stopAt < SAME_REQUEST_MS) return;
        log.warn({ signal }, 'second signal: passed on to the workers (they exit now)');
        for (const { worker } of lives.values()) worker.process.kill(signal);
        return;
      }
      stopping = true;
      stopAt = now;
      for (const timer of restartTimers) clearTimeout(timer);
      restartTimers.clear();
      log.info({ signal, workers: lives.size }, 'stopping every worker');
      for (const { worker } of lives.values()) worker.process.kill('SIGTERM');
      finishIfDone();
    };
    process.on('SIGTERM', request);
    process.on('SIGINT', request);
    log.info({ workers: options.slots.length, nodeIds: options.slots.map((s) => s.nodeId) }, 'starting workers');
    for (const slot of options.slots) fork(slot, 0);
  });
}
