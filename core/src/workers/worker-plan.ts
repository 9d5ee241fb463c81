import { availableParallelism, hostname } from 'node:os';
import { BridgeError } from '../errors.js';

/** `--workers`: a count, or `auto` (one per core: os.availableParallelism()). */
export function parseWorkerCount(value: string, cores: number = availableParallelism()): number {
  if (value === 'auto') return Math.max(1, cores);
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) {
    throw new BridgeError('BRIDGE_ERR_CONFIG_INVALID', { issues: `--workers: expected a count from 1 to 256, or auto (got ${value})` });
  }
  return Number(value);
}

/** What one worker is started with: its node id and, when the admin server has a fixed port, its own port. */
export interface WorkerSlot {
  readonly index: number;
  readonly nodeId: string;
  readonly httpPort: number | null;
}

/**
 * The workers' node ids and admin ports. Ids are `<base>-w<i>`: base is `--node-id`, else
 * `cluster.nodeId`, else `<hostname>-<pid of the supervisor>` (so a restarted worker keeps its
 * id, and its own journal rows). The phones' port is shared by every worker (node:cluster hands
 * each accepted connection to the next worker); each admin HTTP server needs its own port to be
 * reachable on purpose (scrapes, `/ready`), so worker i listens on `http.port + i` (a port of 0
 * stays 0: one shared random port).
 */
export function planWorkers(count: number, base: string | undefined, httpPort: number, pid: number = process.pid): WorkerSlot[] {
  const root = base ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 48) || 'node'}-${pid}`;
  return Array.from({ length: count }, (_, index) => ({
    index,
    nodeId: `${root}-w${index}`,
    httpPort: httpPort === 0 ? null : httpPort + index,
  }));
}
