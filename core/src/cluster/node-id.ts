import { hostname } from 'node:os';

/**
 * This node's id: `cluster.nodeId`, else `<hostname>-<pid>` with every character outside
 * `[A-Za-z0-9_-]` replaced by `-` (ids are NATS subject tokens and KV keys). Kept out of the
 * cluster module so that the logger and the metrics can name the node without loading NATS.
 */
export function resolveNodeId(configured: string | undefined, pid: number = process.pid): string {
  if (configured !== undefined) return configured;
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 48) || 'node';
  return `${host}-${pid}`;
}
