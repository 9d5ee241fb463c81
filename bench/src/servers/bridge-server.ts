import { resolve } from 'node:path';
import { createBridge, loadBridgeConfig } from '@botbridge/core';
import { serveBenchIpc } from './server-ipc.js';

/**
 * botbridge as the bench runs it: the real bridge built by `createBridge` from a bench config
 * file (BENCH_CONFIG, default bench/configs/domaeka.config.ts), in its own process, plus the
 * bench IPC so the coordinator can read memory, CPU time, active handles and the bridge's
 * counters from outside. Logging, store and plugins are exactly what the config says.
 */
const configFile = resolve(process.env.BENCH_CONFIG ?? 'bench/configs/domaeka.config.ts');
const loaded = await loadBridgeConfig(configFile);
const bridge = createBridge({ config: { ...loaded.settings, plugins: loaded.plugins } });
const { port } = await bridge.start();

serveBenchIpc(port, {
  appStats: () => {
    const stats = bridge.stats();
    return { connections: stats.connections, clients: stats.clients, saturated: stats.saturated, counters: stats.counters, writers: stats.writers };
  },
  stop: () => bridge.close(),
});
