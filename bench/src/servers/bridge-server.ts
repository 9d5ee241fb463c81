import { resolve } from 'node:path';
import { startServer } from '@botbridge/core/server';
import { countChatLogRows } from './chat-log-rows.js';
import { serveBenchIpc } from './server-ipc.js';

/**
 * botbridge as the bench runs it: what `botbridge start` runs (`startServer`: the bridge and its
 * admin HTTP server with /metrics) from a bench config file (BENCH_CONFIG, default
 * bench/configs/domaeka.config.ts), in its own process, plus the bench IPC so the coordinator can
 * read memory, CPU time, active handles and the bridge's counters from outside. Logging, store,
 * HTTP and plugins are exactly what the config says. After the graceful stop it counts the
 * chat-log rows that reached the store, so a run that lost rows cannot pass as a result.
 */
const configFile = resolve(process.env.BENCH_CONFIG ?? 'bench/configs/domaeka.config.ts');
const server = await startServer({ configFile, http: process.env.BENCH_HTTP !== 'off' });
const { bridge } = server;
const storeUrl = bridge.settings.store.url;

serveBenchIpc(
  bridge.address!.port,
  {
    appStats: () => {
      const stats = bridge.stats();
      return { connections: stats.connections, clients: stats.clients, saturated: stats.saturated, counters: stats.counters, writers: { ...stats.writers, ...stats.buffered } };
    },
    stop: async () => {
      await server.stop();
      return { counters: bridge.stats().counters, chatLogRows: await countChatLogRows(storeUrl) };
    },
  },
  server.http?.port ?? null,
);
