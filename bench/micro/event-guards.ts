import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BridgeEventName } from '@botbridge/sdk';
import { createBridge, loadBridgeConfig } from '@botbridge/core';
// Not part of core's public API: the bench reaches for the class the bridge itself uses.
import { EventBus, ScopedEvents } from '../../core/src/events/bridge-events.js';
import { BenchConnection, emptyCounts, type LoadSink } from '../src/generator/bench-connection.js';
import { identityFor } from '../src/generator/identities.js';
import { SampleBuffer } from '../src/generator/samples.js';
import type { EventGuardCost } from '../src/report/results-types.js';

/**
 * Micro-benchmark behind "the profiler disabled costs nothing measurable" (docs/benchmarks.md,
 * Profiler cost): what the core's event guards cost per message when nobody subscribes.
 *  1. Counted run: a real bridge from the bench's Domaeka config (commands + chat log, SQLite,
 *     no profiler) in this process, `connections` bench connections over TCP (as in the load
 *     runs: one phone, bot and room each), each sending `# echo` one at a time, all at once.
 *     `EventBus.prototype.active` (and `ScopedEvents`', which plugins use) is wrapped for the run
 *     to count every check by event name and whether it found a subscriber; core is not changed.
 *  2. Timed: the exact sequence of checks of the counted messages replayed on a fresh `EventBus`
 *     with no subscribers, `repeats` times over in 10 batches; the median batch gives ns per
 *     check and per message. Loop overhead is included, so the figure is an upper bound.
 *   node --import tsx bench/micro/event-guards.ts [--connections 100] [--messages 1000] [--repeats 300] [--config FILE] [--out FILE.json]
 */
const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '100' },
    /** Counted messages in all, split over the connections. */
    messages: { type: 'string', default: '1000' },
    /** Warm-up messages per connection, not counted. */
    warmup: { type: 'string', default: '20' },
    /** Times the counted sequence of checks is replayed for the timing. */
    repeats: { type: 'string', default: '300' },
    config: { type: 'string', default: resolve(import.meta.dirname, '../configs/domaeka.config.ts') },
    out: { type: 'string' },
  },
});
const CONNECTIONS = Number(values.connections);
const PER_CONNECTION = Math.max(1, Math.round(Number(values.messages) / CONNECTIONS));
const MESSAGES = PER_CONNECTION * CONNECTIONS;
const WARMUP = Number(values.warmup);
const REPEATS = Number(values.repeats);

interface Counted {
  readonly sequence: BridgeEventName[];
  readonly activeChecks: number;
}

/** Sends `count` `# echo` requests one after the other, each after the previous reply. */
function sendSequentially(conn: BenchConnection, count: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let left = count;
    const timer = setTimeout(() => reject(new Error(`no reply within 30 s (${left} of ${count} left)`)), 30_000);
    conn.onSlotFree = () => {
      left -= 1;
      if (left > 0) conn.send(performance.now());
      else {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    conn.send(performance.now());
  });
}

async function countedRun(configFile: string, dir: string): Promise<Counted> {
  process.env.BENCH_STORE_URL ??= `sqlite:${join(dir, 'guards.db')}`;
  process.env.BENCH_LOG_LEVEL ??= 'warn';
  process.env.BENCH_MAX_CONNECTIONS ??= String(CONNECTIONS + 100);
  const loaded = await loadBridgeConfig(configFile);
  const bridge = createBridge({ config: { ...loaded.settings, plugins: loaded.plugins } });
  const { port } = await bridge.start();
  const sink: LoadSink = { counts: emptyCounts(), latencies: new SampleBuffer(1024), window: { start: 0, end: Number.POSITIVE_INFINITY } };
  const conns: BenchConnection[] = [];
  const originals = { bus: EventBus.prototype.active, scoped: ScopedEvents.prototype.active };
  const sequence: BridgeEventName[] = [];
  let activeChecks = 0;
  try {
    // One at a time: the config's handshake cap (20 at once) stays as it is.
    for (let i = 0; i < CONNECTIONS; i += 1) {
      const conn = new BenchConnection(port, identityFor('guards', i), `g${i}`, sink);
      conns.push(conn);
      const handshake = await conn.handshake;
      if (!handshake.ok || !handshake.approved) throw new Error(`handshake: ${JSON.stringify(handshake)}`);
    }
    await Promise.all(conns.map((conn) => sendSequentially(conn, WARMUP)));
    const counting = (original: (name: BridgeEventName) => boolean) =>
      function (this: unknown, name: BridgeEventName): boolean {
        const found = original.call(this, name);
        sequence.push(name);
        if (found) activeChecks += 1;
        return found;
      };
    EventBus.prototype.active = counting(originals.bus);
    ScopedEvents.prototype.active = counting(originals.scoped);
    await Promise.all(conns.map((conn) => sendSequentially(conn, PER_CONNECTION)));
  } finally {
    EventBus.prototype.active = originals.bus;
    ScopedEvents.prototype.active = originals.scoped;
    await Promise.all(conns.map((conn) => conn.close()));
    await bridge.close();
  }
  const c = sink.counts;
  const problems = c.timeouts + c.duplicates + c.orderViolations + c.unknownReplies + c.late;
  if (problems > 0) throw new Error(`counted run: ${problems} bad replies (${JSON.stringify(c)})`);
  return { sequence, activeChecks };
}

/** The same checks, replayed on an EventBus nobody listens to. */
function timeChecks(sequence: readonly BridgeEventName[]): { nsPerCheck: number; found: number } {
  const bus = new EventBus();
  const replay = (times: number) => {
    let found = 0;
    for (let r = 0; r < times; r += 1) for (let i = 0; i < sequence.length; i += 1) if (bus.active(sequence[i]!)) found += 1;
    return found;
  };
  let found = replay(Math.max(1, Math.ceil(REPEATS / 10)));
  const batches: number[] = [];
  const perBatch = Math.max(1, Math.ceil(REPEATS / 10));
  for (let b = 0; b < 10; b += 1) {
    const t0 = process.hrtime.bigint();
    found += replay(perBatch);
    batches.push(Number(process.hrtime.bigint() - t0) / (perBatch * sequence.length));
  }
  batches.sort((x, y) => x - y);
  return { nsPerCheck: batches[5]!, found };
}

const dir = mkdtempSync(join(tmpdir(), 'botbridge-micro-'));
try {
  const { sequence, activeChecks } = await countedRun(resolve(values.config), dir);
  if (sequence.length === 0) throw new Error('no event guard was checked: is EventBus still the class the bridge uses?');
  const checksByName: Record<string, number> = {};
  for (const name of sequence) checksByName[name] = (checksByName[name] ?? 0) + 1;
  for (const name of Object.keys(checksByName)) checksByName[name]! /= MESSAGES;
  const { nsPerCheck, found } = timeChecks(sequence);
  if (found !== 0) throw new Error(`the replayed checks found ${found} subscribers: something subscribed in this process`);
  const checksPerMessage = sequence.length / MESSAGES;
  const result: EventGuardCost = {
    messages: MESSAGES,
    connections: CONNECTIONS,
    checksPerMessage,
    checksByName,
    activeChecks,
    repeats: REPEATS,
    nsPerCheck,
    nsPerMessage: nsPerCheck * checksPerMessage,
  };
  const byName = Object.entries(checksByName).map(([name, n]) => `${name} ${n.toFixed(2)}`).join(', ');
  process.stderr.write(
    `event guards: ${checksPerMessage.toFixed(2)} active() checks per # echo message (${byName}); ${activeChecks} found a subscriber\n` +
      `no subscribers: ${nsPerCheck.toFixed(2)} ns per check, ${result.nsPerMessage.toFixed(1)} ns per message\n`,
  );
  if (values.out) writeFileSync(values.out, `${JSON.stringify(result)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
