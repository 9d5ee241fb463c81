import { defineConfig, definePlugin } from '@botbridge/sdk';
import { chatLog } from '@botbridge/plugin-chat-log';

/**
 * The fault suite's botbridge (bench/fault/): `botbridge start --config bench/fault/fault.config.ts`.
 * One plugin answers every message with `echo <logId>` after a fixed delay, so with a known
 * global concurrency the dispatcher's capacity is computable (concurrency ÷ delay) and a reply
 * names the message it answers. The chat log is on (the checker reads kb_chat_logs), and the
 * admin HTTP server with /metrics (the suite scrapes the counters as evidence). Everything a
 * scenario varies comes from FAULT_* variables; the rest are production defaults.
 */
const env = process.env;
const int = (name: string, fallback: number) => (env[name] === undefined || env[name] === '' ? fallback : Number(env[name]));
const delayMs = int('FAULT_DELAY_MS', 20);

const faultEcho = definePlugin({
  name: 'fault-echo',
  setup(ctx) {
    ctx.onMessage(async ({ message }) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return `echo ${message.logId ?? 'none'}`;
    });
  },
});

const config = defineConfig({
  listen: { host: '127.0.0.1', port: 0 },
  limits: { maxConnections: 500, maxHandshakingConnections: 200, maxHandshakingPerAddress: 200 },
  session: {
    pingIntervalMs: int('FAULT_PING_INTERVAL_MS', 30_000),
    pingJitterMs: int('FAULT_PING_JITTER_MS', 5_000),
  },
  approval: { autoApprove: true },
  pipeline: {
    replyGapMs: 0,
    queueCapacity: int('FAULT_QUEUE_CAPACITY', 10_000),
    concurrency: {
      global: int('FAULT_CONCURRENCY', 31),
      perBot: int('FAULT_CONCURRENCY', 31),
      perRoom: int('FAULT_PER_ROOM', 3),
    },
  },
  shutdown: { graceMs: int('FAULT_GRACE_MS', 10_000) },
  log: { level: 'info', pretty: false },
  http: { enabled: true, host: '127.0.0.1', port: 0, metrics: true },
  plugins: [faultEcho, chatLog],
});

// The outbox (issue 11, item 5): `replies.outbox.ttlMs` (default 10 min). On a branch without the
// outbox the key makes the config invalid, which the outbox scenario reports as not implemented.
if (env.FAULT_OUTBOX_TTL_MS) {
  const withReplies = config as { replies?: Record<string, unknown> };
  withReplies.replies = { ...withReplies.replies, outbox: { ttlMs: Number(env.FAULT_OUTBOX_TTL_MS) } };
}

// Cluster failover (scenarios/cluster-failover.ts): the lease timing of the nodes; the NATS URL
// and the node id come from --cluster and --node-id.
if (env.FAULT_CLUSTER_URL) {
  (config as { cluster?: Record<string, unknown> }).cluster = {
    url: env.FAULT_CLUSTER_URL,
    prefix: env.FAULT_CLUSTER_PREFIX ?? 'botbridge',
    leaseTtlMs: int('FAULT_LEASE_TTL_MS', 10_000),
    leaseRefreshMs: int('FAULT_LEASE_REFRESH_MS', 3_000),
  };
}

export default config;
