import type { BridgeConfig } from '@botbridge/sdk';
import { createBridge } from './bridge.js';
import { loadBridgeConfig } from './config/load-config.js';
import { reasonOf } from './errors.js';
import { createLogger } from './logger.js';

export interface RunServerOptions {
  readonly configFile?: string;
  readonly port?: number;
  readonly storeUrl?: string;
  readonly autoApprove?: boolean;
}

/**
 * `botbridge start`: loads bridge.config.ts, applies command-line overrides, runs the bridge
 * until SIGTERM/SIGINT, then closes it gracefully (stop accepting, drain, flush, close the store).
 * Resolves with the process exit code.
 */
export async function runServer(options: RunServerOptions = {}): Promise<number> {
  const loaded = await loadBridgeConfig(options.configFile);
  const s = loaded.settings;
  const config: BridgeConfig = {
    ...s,
    listen: { ...s.listen, port: options.port ?? s.listen.port },
    store: { ...s.store, url: options.storeUrl ?? process.env.BOTBRIDGE_STORE ?? s.store.url },
    approval: { ...s.approval, autoApprove: options.autoApprove === true || s.approval.autoApprove },
    plugins: loaded.plugins,
  };
  const log = createLogger(s.log);
  log.info({ config: loaded.file ?? '(defaults)' }, 'starting botbridge');
  const bridge = createBridge({ config, logger: log });
  await bridge.start();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      bridge.close().then(
        () => resolve(0),
        (error: unknown) => {
          log.error({ err: reasonOf(error) }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
