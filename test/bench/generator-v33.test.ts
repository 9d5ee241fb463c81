import { afterEach, describe, expect, it } from 'vitest';
import { createTestBridge, type TestBridge } from '@botbridge/testing';
import { commands } from '@botbridge/plugin-commands';
import { usePlugin } from '@botbridge/sdk';
import { BenchConnection, emptyCounts, type LoadSink } from '../../bench/src/generator/bench-connection.js';
import { closeConnections, connectAndReport } from '../../bench/src/generator/connect-pool.js';
import { identityFor } from '../../bench/src/generator/identities.js';
import type { ConnectedMessage } from '../../bench/src/generator/messages.js';
import type { IpcChannel } from '../../bench/src/ipc/channel.js';
import { SampleBuffer } from '../../bench/src/generator/samples.js';

/**
 * The load generator drives v3.3 phones too: a v3.3 and a v3.2 bench connection on one real
 * bridge (with the commands plugin's `# echo`, as the bench servers run it) get every reply
 * matched, in order, and their pings answered.
 */

let bridge: TestBridge | undefined;
afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
});

describe('bench connections of both protocols', () => {
  it('match every echo reply and answer pings', async () => {
    bridge = await createTestBridge({ plugins: [usePlugin(commands, {})], config: { session: { pingIntervalMs: 100, pingJitterMs: 0 }, pipeline: { replyGapMs: 0 } } });
    const run = async (protocol: '3.2' | '3.3', index: number) => {
      const sink: LoadSink = { counts: emptyCounts(), latencies: new SampleBuffer(16), window: { start: 0, end: Number.POSITIVE_INFINITY } };
      const conn = new BenchConnection(bridge!.port, { ...identityFor('v33', index), protocol }, `c${index}`, sink);
      try {
        expect(await conn.handshake).toEqual({ ok: true, approved: true });
        let answered = 0;
        const done = new Promise<void>((resolve) => {
          conn.onSlotFree = () => {
            answered += 1;
            if (answered === 5) resolve();
          };
        });
        for (let i = 0; i < 5; i += 1) conn.send(performance.now());
        await done;
        await expect.poll(() => sink.counts.pingsAnswered, { timeout: 3_000 }).toBeGreaterThan(0);
        return sink;
      } finally {
        await conn.close();
      }
    };
    const [old, current] = await Promise.all([run('3.2', 0), run('3.3', 1)]);
    for (const sink of [old, current]) {
      expect(sink.counts).toMatchObject({ sent: 5, orderViolations: 0, duplicates: 0, unknownReplies: 0, timeouts: 0 });
      expect(sink.latencies.length).toBe(5);
    }
    await expect.poll(() => bridge!.bridge.clients().length).toBe(0);
  });

  it('opens every phone of a load task on the task\'s protocol (the protocols scenario), v3.2 when it names none', async () => {
    bridge = await createTestBridge({ plugins: [usePlugin(commands, {})] });
    const sink: LoadSink = { counts: emptyCounts(), latencies: new SampleBuffer(16), window: { start: 0, end: Number.POSITIVE_INFINITY } };
    const reports: ConnectedMessage[] = [];
    // connectAndReport only sends on its channel: record what the coordinator would receive.
    const channel = { send: async (message: ConnectedMessage) => void reports.push(message) } as unknown as IpcChannel;
    for (const [protocol, first, expected] of [['3.3', 0, 'v3.3'], [undefined, 10, 'v3.2']] as const) {
      const task = { port: bridge.port, first, count: 4, connectConcurrency: 2, ...(protocol ? { protocol } : {}) };
      const opened = await connectAndReport(task, 'load', 'c', sink, channel);
      try {
        expect(reports.at(-1)).toMatchObject({ type: 'connected', opened: 4, failures: 0, notApproved: 0 });
        const clients = bridge.bridge.clients();
        expect(clients.map((c) => c.protocol)).toEqual([expected, expected, expected, expected]);
      } finally {
        await closeConnections(opened.conns);
      }
      await expect.poll(() => bridge!.bridge.clients().length).toBe(0);
    }
  });
});
