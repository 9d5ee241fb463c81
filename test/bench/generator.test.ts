import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchConnection, emptyCounts, type LoadSink } from '../../bench/src/generator/bench-connection.js';
import { identityFor } from '../../bench/src/generator/identities.js';
import { percentiles, SampleBuffer } from '../../bench/src/generator/samples.js';
import { quickPlan } from '../../bench/src/plan.js';
import { signAuth } from '../../bench/src/protocol/wire.js';
import { BenchContext } from '../../bench/src/scenarios/bench-context.js';
import { runLoad } from '../../bench/src/scenarios/load-run.js';

/**
 * The bench's own sanity: its signer agrees with PROTOCOL.md, its percentiles are exact, its
 * reply checks catch what they claim to catch, and a short real run against the echo baseline
 * (separate server and generator processes, as `npm run bench` runs them) matches every reply.
 */

const workDir = mkdtempSync(join(tmpdir(), 'botbridge-bench-test-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('bench building blocks', () => {
  it('signs auth blocks as PROTOCOL.md §4 specifies (test vector)', () => {
    const signature = signAuth({
      clientType: 'MessengerBotR',
      botName: 'LOA.i',
      deviceUUID: 'ccbd8eee1012327e',
      macAddress: '02:00:00:00:00:00',
      ipAddress: '192.168.0.10',
      timestamp: 1752566400000,
    });
    expect(signature).toBe('845af89f453e6a9c3dd811f19b012e13d898922394a850bb451b51118736b721');
  });

  it('computes exact nearest-rank percentiles', () => {
    const values = new Float64Array(1000).map((_, i) => 1000 - i); // 1000 … 1, unsorted input
    const p = percentiles(values);
    expect([p.count, p.p50, p.p90, p.p99, p.p999, p.max]).toEqual([1000, 500, 900, 990, 999, 1000]);
    expect(percentiles(new Float64Array([7])).p999).toBe(7);
  });

  it('counts replies out of room order, duplicates and unmatched replies', async () => {
    // A fake server that answers each pair of requests in reverse order, repeats one reply and invents one.
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.setEncoding('utf8');
      let buffered = '';
      const pending: string[] = [];
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
          const packet = JSON.parse(buffered.slice(0, nl)) as { event?: string; data?: { text?: string } };
          buffered = buffered.slice(nl + 1);
          const reply = (text: string) => socket.write(`${JSON.stringify({ event: 'messageResponse', data: { text } })}\n`);
          if (packet.event === undefined) {
            socket.write(`${JSON.stringify({ event: 'handshakeComplete', data: { success: true, approved: true } })}\n`);
            continue;
          }
          pending.push(`에코: ${packet.data!.text!.slice('# echo '.length)}`);
          if (pending.length === 2) {
            reply(pending[1]!);
            reply(pending[0]!);
            reply(pending[0]!);
            reply('에코: c0.999999');
            pending.length = 0;
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const sink: LoadSink = { counts: emptyCounts(), latencies: new SampleBuffer(16), window: { start: 0, end: Number.POSITIVE_INFINITY } };
    const conn = new BenchConnection(port, identityFor('test', 0), 'c0', sink);
    try {
      expect(await conn.handshake).toEqual({ ok: true, approved: true });
      let answered = 0;
      const done = new Promise<void>((resolve) => {
        conn.onSlotFree = () => {
          answered += 1;
          if (answered === 4) resolve();
        };
      });
      for (let i = 0; i < 4; i += 1) conn.send(performance.now());
      await done;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sink.counts).toMatchObject({ sent: 4, orderViolations: 2, duplicates: 2, unknownReplies: 2, timeouts: 0 });
      expect(sink.latencies.length).toBe(4);
    } finally {
      await conn.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('generator against the echo baseline', () => {
  it('matches every reply to its request over a short closed-loop run', async () => {
    const plan = { ...quickPlan, warmupMs: 300, durationMs: 1_500, drainMs: 1_000, timeoutMs: 2_000 };
    const ctx = new BenchContext(plan, workDir, () => undefined);
    const run = await runLoad(ctx, 'echo', { label: 'test', mode: 'closed', connections: 4, window: 3, ratePerSec: 0 });
    const c = run.counts;
    expect(c.repliesInWindow).toBeGreaterThan(100);
    expect(c.sentInWindow).toBe(run.latencies.length);
    expect({ timeouts: c.timeouts, late: c.late, duplicates: c.duplicates, orderViolations: c.orderViolations, unknown: c.unknownReplies, closed: c.closedByServer }).toEqual({
      timeouts: 0, late: 0, duplicates: 0, orderViolations: 0, unknown: 0, closed: 0,
    });
    const p = percentiles(run.latencies);
    expect(p.count).toBe(run.latencies.length);
    expect(p.p50).toBeGreaterThan(0);
    expect(p.p50).toBeLessThanOrEqual(p.p90);
    expect(p.p90).toBeLessThanOrEqual(p.p99);
    expect(p.p99).toBeLessThanOrEqual(p.p999);
    expect(p.p999).toBeLessThanOrEqual(p.max);
    expect(run.generatorCpu).toBeGreaterThan(0);
    expect(run.serverCpu).toBeGreaterThan(0);
  });
});
