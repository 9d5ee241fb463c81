import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { CliError } from './cli-io.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new InvalidArgumentError('expected a TCP port, 0-65535.');
  return port;
}

function parseNodeId(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new InvalidArgumentError('expected letters, digits, - and _ (at most 64).');
  return value;
}

/**
 * `botbridge start`: runs the server until SIGTERM/SIGINT. The server module is imported only
 * here, so the approval commands load none of it. `setExitCode` receives the server's exit code
 * once it has stopped.
 */
export function addStartCommand(program: Command, setExitCode: (code: number) => void): void {
  program.command('start')
    .description('run the bridge server')
    .option('--config <file>', 'bridge config file (default: $BOTBRIDGE_CONFIG, else ./bridge.config.ts)')
    .option('--port <n>', 'listen on this TCP port (overrides listen.port)', parsePort)
    .option('--store <url>', 'store URL (overrides $BOTBRIDGE_STORE and store.url)')
    .option('--auto-approve', 'approve new devices and rooms on first contact (dev/test only)')
    .option('--http-port <n>', 'admin HTTP server port (overrides http.port)', parsePort)
    .option('--no-http', 'run without the admin HTTP server (overrides http.enabled)')
    .option('--defaults', 'run on the built-in defaults when there is no ./bridge.config.ts (no plugins)')
    .option('--cluster <url>', 'join a cluster through this NATS server (overrides cluster.url; docs/cluster.md)')
    .option('--node-id <id>', 'this node\'s id in the cluster (overrides cluster.nodeId; default <hostname>-<pid>)', parseNodeId)
    .option('--workers <n>', 'run n cluster nodes in this service, one process each sharing the port (auto: one per core; needs cluster.url; docs/cluster.md)', '1')
    .action(async (options: StartOptions) => {
      // BOTBRIDGE_CONFIG names the file as --config does (read again by loadBridgeConfig).
      const named = options.config ?? (process.env.BOTBRIDGE_CONFIG?.trim() || undefined);
      if (named === undefined && options.defaults !== true) requireDefaultConfig();
      const { parseWorkerCount } = await import('../workers/worker-plan.js');
      const workers = parseWorkerCount(options.workers);
      if (workers > 1) {
        const { runWorkers } = await import('../workers/run-workers.js');
        setExitCode(await runWorkers({ ...options, count: workers }, process.argv.slice(2)));
        return;
      }
      const { runServer } = await import('../server.js');
      const outcome: unknown = await runServer({
        configFile: options.config,
        port: options.port,
        storeUrl: options.store,
        autoApprove: options.autoApprove === true ? true : undefined,
        httpPort: options.httpPort,
        http: options.http,
        clusterUrl: options.cluster,
        nodeId: options.nodeId,
      });
      setExitCode(typeof outcome === 'number' ? outcome : 0);
      // A worker of `--workers`: its IPC channel to the supervisor would keep it alive.
      if (cluster.isWorker) cluster.worker?.disconnect();
    });
}

export interface StartOptions {
  config?: string;
  port?: number;
  store?: string;
  autoApprove?: boolean;
  httpPort?: number;
  http: boolean;
  defaults?: boolean;
  cluster?: string;
  nodeId?: string;
  workers: string;
}

/**
 * Without --config, ./bridge.config.ts must exist: started in the wrong folder, the server would
 * otherwise run on the defaults with no plugins (answering nothing) and create ./data there.
 * Checked before the server module loads, so nothing is created.
 */
function requireDefaultConfig(cwd: string = process.cwd()): void {
  const path = resolve(cwd, 'bridge.config.ts');
  if (existsSync(path)) return;
  throw new CliError(
    `no bridge.config.ts in ${cwd}. Run botbridge start in the folder of your bridge.config.ts (npm start does), `
      + 'name one with --config FILE, or pass --defaults to run on the built-in defaults without plugins.',
  );
}
