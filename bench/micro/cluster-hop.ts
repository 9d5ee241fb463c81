import { parseArgs } from 'node:util';
import { createTestBridge, type TestBridge } from '@botbridge/testing';
import { createTestDatabase } from '../../core/src/store/test-database.js';

/**
 * The cluster hop's cost (docs/cluster.md, "Cost of a hop"): a proactive send on node B for a
 * phone held by node A goes B → NATS → A → phone, and A's result comes back over NATS. Two
 * bridges in this process joined through the real NATS server, one throwaway MariaDB database,
 * one FakeBridgeClient phone on A. Sends are sequential (each awaits its SendResult, `written`
 * once A wrote it to the phone's socket); the same count is sent on A itself as the baseline, so
 * the difference of the medians is what the hop adds.
 *   node --import tsx bench/micro/cluster-hop.ts [--sends 2000] [--warmup 200] [--nats nats://127.0.0.1:4222] [--store mysql://root@127.0.0.1:3306/botbridge_bench]
 */
const { values } = parseArgs({
  options: {
    sends: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '200' },
    nats: { type: 'string', default: process.env.BOTBRIDGE_TEST_NATS ?? 'nats://127.0.0.1:4222' },
    store: { type: 'string', default: 'mysql://root@127.0.0.1:3306/botbridge_bench' },
  },
});
const sends = Number(values.sends);
const warmup = Number(values.warmup);
const prefix = `bbbench_${process.pid}`;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function timeSends(from: TestBridge, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = process.hrtime.bigint();
    const result = await from.bridge.send({ botName: 'solo', room: '방', channelId: '1', deviceId: null }, `m${i}`);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 'written') throw new Error(`send ${i}: ${JSON.stringify(result)}`);
    out.push(ms);
  }
  return out.sort((x, y) => x - y);
}

const db = await createTestDatabase(values.store);
const bridges: TestBridge[] = [];
try {
  const config = (nodeId: string) => ({
    store: { url: db.url },
    pipeline: { replyGapMs: 0 },
    cluster: { url: values.nats, nodeId, prefix },
  });
  const a = await createTestBridge({ config: config('a') });
  bridges.push(a);
  const b = await createTestBridge({ config: config('b') });
  bridges.push(b);
  const phone = await a.client({ botName: 'solo', deviceId: 'dev-solo' });
  while (b.bridge.stats().counters['cluster{hop_written}'] === undefined) {
    await b.bridge.send({ botName: 'solo', room: '방', channelId: '1', deviceId: null }, 'probe');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await timeSends(a, warmup);
  await timeSends(b, warmup);
  const local = await timeSends(a, sends);
  const hop = await timeSends(b, sends);
  const row = (name: string, v: number[]) => `${name.padEnd(22)} p50 ${quantile(v, 0.5).toFixed(3)} ms   p90 ${quantile(v, 0.9).toFixed(3)} ms   p99 ${quantile(v, 0.99).toFixed(3)} ms`;
  console.log(`${sends} sequential sends each, after ${warmup} warm-up sends; phone on node a`);
  console.log(row('send on a (local)', local));
  console.log(row('send on b (hop via a)', hop));
  console.log(`hop adds (p50 difference): ${(quantile(hop, 0.5) - quantile(local, 0.5)).toFixed(3)} ms`);
  await phone.close();
} finally {
  for (const t of bridges.reverse()) await t.close();
  await db.drop();
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: values.nats });
  const jsm = await jetstreamManager(nc);
  for (const bucket of ['leases', 'presence']) await jsm.streams.delete(`KV_${prefix}_${bucket}`).catch(() => false);
  await nc.close();
}
