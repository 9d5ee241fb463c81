import { loadBridgeConfig } from '../config/load-config.js';
import { CliError } from '../cli/cli-io.js';
import type { StartOptions } from '../cli/start-command.js';
import { createLogger } from '../logger.js';
import { runSupervisor } from './supervisor.js';
import { planWorkers, type WorkerSlot } from './worker-plan.js';

/** Options whose value this supervisor sets per worker (or drops): never passed through as given. */
const PER_WORKER = new Set(['--workers', '--node-id', '--http-port']);

/**
 * `botbridge start --workers N` (N > 1): checks the cluster is configured, plans the workers'
 * node ids and admin ports, and supervises them until a signal (supervisor.ts). Every worker
 * runs the same command line without `--workers`, plus its own `--node-id` and `--http-port`.
 */
export async function runWorkers(options: StartOptions & { count: number }, argv: readonly string[]): Promise<number> {
  const loaded = await loadBridgeConfig(options.config);
  const settings = loaded.settings;
  const clusterUrl = options.cluster ?? settings.cluster?.url;
  if (clusterUrl === undefined) {
    throw new CliError(`--workers ${options.workers} runs several cluster nodes joined through NATS: set cluster.url in bridge.config.ts or pass --cluster nats://HOST:4222 (docs/cluster.md).`);
  }
  const log = createLogger(settings.log, undefined, { node: 'supervisor' });
  const http = options.http !== false && settings.http.enabled;
  const slots = planWorkers(options.count, options.nodeId ?? settings.cluster?.nodeId, http ? options.httpPort ?? settings.http.port : 0);
  const base = withoutPerWorker(argv);
  const argsOf = (slot: WorkerSlot) => [
    ...base,
    ...(options.cluster === undefined ? ['--cluster', clusterUrl] : []),
    '--node-id', slot.nodeId,
    ...(slot.httpPort === null ? [] : ['--http-port', String(slot.httpPort)]),
  ];
  return runSupervisor({ slots, argsOf, log });
}

/** `argv` without the per-worker options (`--x v` and `--x=v` forms). */
export function withoutPerWorker(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const name = arg.split('=')[0]!;
    if (!PER_WORKER.has(name)) {
      out.push(arg);
      continue;
    }
    if (!arg.includes('=')) i += 1;
  }
  return out;
}
