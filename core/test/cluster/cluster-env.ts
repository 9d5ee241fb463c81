import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { CoreLogger } from '../../src/logger.js';
import { tcpReachable as reachable } from '../../src/store/tcp-reachable.js';

/**
 * Where the cluster tests find NATS (JetStream) and MariaDB: `BOTBRIDGE_TEST_NATS` (default
 * nats://127.0.0.1:4222) and `BOTBRIDGE_TEST_STORE` (default mysql://root@127.0.0.1:3306/botbridge_test).
 * `.ci/run` starts both. A test file skips with a message naming what is missing, never silently.
 */
export const NATS_URL = process.env.BOTBRIDGE_TEST_NATS ?? 'nats://127.0.0.1:4222';
export const MYSQL_URL = process.env.BOTBRIDGE_TEST_STORE?.startsWith('mysql://') ? process.env.BOTBRIDGE_TEST_STORE : 'mysql://root@127.0.0.1:3306/botbridge_test';

export const natsUp = await reachable(NATS_URL, 4222);
export const mysqlUp = await reachable(MYSQL_URL, 3306);
if (!natsUp) console.warn(`cluster tests SKIPPED: no NATS at ${NATS_URL} (start nats-server -js, or set BOTBRIDGE_TEST_NATS)`);
if (!mysqlUp) console.warn(`cluster process tests SKIPPED: no MariaDB at ${MYSQL_URL} (set BOTBRIDGE_TEST_STORE)`);

/** A fresh fleet prefix per test: fleets on one NATS server never see each other's buckets. */
export function testPrefix(): string {
  return `bbt_${randomUUID().slice(0, 8)}`;
}

export function quietLog(): CoreLogger {
  return pino({ level: process.env.BOTBRIDGE_TEST_LOG ?? 'silent' });
}

/** Removes the test fleet's KV buckets (their streams). */
export async function dropFleet(prefix: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: NATS_URL, timeout: 2_000 });
  try {
    const jsm = await jetstreamManager(nc);
    for (const bucket of ['leases', 'presence']) await jsm.streams.delete(`KV_${prefix}_${bucket}`).catch(() => false);
  } finally {
    await nc.close();
  }
}

export async function until(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
