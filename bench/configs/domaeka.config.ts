import { defineConfig, usePlugin } from '@botbridge/sdk';
import { commands } from '@botbridge/plugin-commands';
import { chatLog } from '@botbridge/plugin-chat-log';

/**
 * The bench's botbridge: the Domaeka profile of ./bridge.config.ts (commands + chat log) with the
 * production pipeline defaults, run by `startServer` exactly as `botbridge start` runs it: the
 * admin HTTP server is on with /metrics (the coordinator scrapes it during the run, as
 * Prometheus would), and the chat log is on. What differs, and why:
 * - loopback, port 0 (the wrapper reports the port);
 * - autoApprove, so the generator's fresh devices and rooms get replies without a CLI step;
 * - connection caps raised per scenario (BENCH_MAX_CONNECTIONS, BENCH_MAX_HANDSHAKING): the
 *   defaults (100 / 20) would refuse the 1,000- and 10,000-connection scenarios;
 * - the ping interval shortened per scenario (BENCH_PING_INTERVAL_MS) so the idle scenario sees
 *   several pings per connection in seconds rather than minutes;
 * - the store URL from BENCH_STORE_URL (a temp SQLite file, or the MariaDB bench database);
 * - the admin HTTP server on an ephemeral port (the token comes from BOTBRIDGE_ADMIN_TOKEN);
 * - per-connection rates (`limits.maxMessagesPerSecond`, `maxBytesPerSecond`) raised and bans
 *   off: one bench connection stands for a whole busy phone fleet (thousands of lines a second),
 *   and the churn scenario reconnects the same device by design, which the flapping detector
 *   would ban.
 * Logs stay at `info` (the production level) and go to a file in the run's temp directory.
 * BENCH_PLUGINS=commands drops the chat log, to measure what it costs.
 */
const env = process.env;
const int = (name: string, fallback: number) => (env[name] === undefined ? fallback : Number(env[name]));

export default defineConfig({
  listen: { host: '127.0.0.1', port: 0 },
  limits: {
    maxConnections: int('BENCH_MAX_CONNECTIONS', 100),
    maxHandshakingConnections: int('BENCH_MAX_HANDSHAKING', 20),
    maxMessagesPerSecond: 1_000_000,
    maxBytesPerSecond: 1_073_741_824,
  },
  bans: { enabled: false },
  session: {
    pingIntervalMs: int('BENCH_PING_INTERVAL_MS', 30_000),
    pingJitterMs: int('BENCH_PING_JITTER_MS', 5_000),
  },
  approval: { autoApprove: true },
  store: { url: env.BENCH_STORE_URL ?? 'sqlite::memory:' },
  log: { level: (env.BENCH_LOG_LEVEL as 'info' | undefined) ?? 'info', pretty: false },
  http: { enabled: env.BENCH_HTTP !== 'off', host: '127.0.0.1', port: 0, metrics: true },
  plugins: (env.BENCH_PLUGINS ?? 'commands,chat-log').split(',').includes('chat-log')
    ? [usePlugin(commands, { admins: {} }), chatLog]
    : [usePlugin(commands, { admins: {} })],
});
