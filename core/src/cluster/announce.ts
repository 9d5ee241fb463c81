import { connect } from '@nats-io/transport-node';
import { clusterNames } from './cluster-keys.js';

/**
 * The CLI's side of approval events: one short NATS connection that publishes the change, so
 * every node re-reads that row at once instead of at its next poll (approval.refreshIntervalMs).
 * Loaded only when the config names a cluster.
 */
export async function announceApprovalChange(
  url: string,
  prefix: string,
  change: { kind: 'device' | 'room'; botName: string; id: string },
  timeoutMs = 2_000,
): Promise<void> {
  const nc = await connect({ servers: url.split(',').map((s) => s.trim()).filter(Boolean), timeout: timeoutMs, maxReconnectAttempts: 0, name: 'botbridge-cli' });
  try {
    nc.publish(clusterNames(prefix).approvals, JSON.stringify({ ...change, from: 'cli' }));
    await nc.flush();
  } finally {
    await nc.close();
  }
}
