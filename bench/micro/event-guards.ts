import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CORE_EVENT_NAMES, type BridgeEventName, type CoreEventName, type EventInput } from '@botbridge/sdk';
import { createBridge, loadBridgeConfig } from '@botbridge/core';
// Not part of core's public API: the bench reaches for the class the bridge itself uses.
import { EventBus, ScopedEvents } from '../../core/src/events/bridge-events.js';
import { Counters } from '../../core/src/metrics/counters.js';
import { BenchConnection, emptyCounts, type LoadSink } from '../src/generator/bench-connection.js';
import { identityFor } from '../src/generator/identities.js';
import { SampleBuffer } from '../src/generator/samples.js';
import type { EventGuardCost } from '../src/report/results-types.js';

/**
 * Micro-benchmark behind "the profiler disabled costs nothing measurable" (docs/benchmarks.md,
 * Profiler cost): what the core's event fast path costs per message when nobody subscribes. That
 * path is `EventBus.publish` for the facts (a counter increment and a subscriber check) plus the
 * `active(name)` guards before the events that are costly to build.
 *  1. Counted run: a real bridge from the bench's Domaeka config (commands + chat log, SQLite,
 *     no profiler) in this process, `connections` bench connections over TCP (as in the load
 *     runs: one phone, bot and room each), each sending `# echo` one at a time, all at once.
 *     `EventBus.prototype.active` (and `ScopedEvents`', which plugins use) and
 *     `EventBus.prototype.publish` are wrapped for the run to record every call in order (a
 *     publish with its payload) and whether it found a subscriber; core is not changed.
 *  2. Timed: the recorded checks, then the recorded publishes (same payload objects), replayed on
 *     a fresh `EventBus` with fresh counters and no subscribers, `repeats` times over in 10
 *     batches; the median batch gives ns per check and per publish, and their sum per message.
 *     Loop overhead is included, so the figures are upper bounds; building the payload literal
 *     at the publish site is not (it is in the load runs' CPU per reply).
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

type Published = { readonly name: CoreEventName; readonly payload: EventInput<CoreEventName> };

interface Counted {
  readonly sequence: BridgeEventName[];
  readonly published: Published[];
  /** Checks and publishes that found a subscriber on an event nobody listened to at the start. */
  readonly activeChecks: number;
  /** Events the config's own plugins subscribe to for good (the chat log: `reply:sent`). */
  readonly standing: string[];
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
  const originals = { bus: EventBus.prototype.active, scoped: ScopedEvents.prototype.active, publish: EventBus.prototype.publish };
  const sequence: BridgeEventName[] = [];
  const published: Published[] = [];
  const probe = new EventBus();
  const standing = new Set<string>();
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
    // A standing subscription of the config's plugins (the chat log records replies from
    // `reply:sent`) is that plugin's work, not a guard that should have found nobody.
    for (const name of CORE_EVENT_NAMES) if (originals.bus.call(probe, name)) standing.add(name);
    const counting = (original: (name: BridgeEventName) => boolean) =>
      function (this: unknown, name: BridgeEventName): boolean {
        const found = original.call(this, name);
        sequence.push(name);
        if (found && !standing.has(name)) activeChecks += 1;
        return found;
      };
    EventBus.prototype.active = counting(originals.bus);
    ScopedEvents.prototype.active = counting(originals.scoped);
    EventBus.prototype.publish = function <K extends CoreEventName>(this: EventBus, name: K, payload: EventInput<K>): void {
      published.push({ name, payload: payload as EventInput<CoreEventName> });
      if (!standing.has(name) && originals.bus.call(this, name)) activeChecks += 1;
      originals.publish.call(this, name, payload);
    };
    await Promise.all(conns.map((conn) => sendSequentially(conn, PER_CONNECTION)));
  } finally {
    EventBus.prototype.active = originals.bus;
    ScopedEvents.prototype.active = originals.scoped;
    EventBus.prototype.publish = originals.publish;
    await Promise.all(conns.map((conn) => conn.close()));
    await bridge.close();
  }
  const c = sink.counts;
  const problems = c.timeouts + c.duplicates + c.orderViolations + c.unknownReplies + c.late;
  if (problems > 0) throw new Error(`counted run: ${problems} bad replies (${JSON.stringify(c)})`);
  return { sequence, published, activeChecks, standing: [...standing] };
}

/** Median ns per operation of `replay(times)`, which runs `length` operations per time. */
function timeReplay(length: number, replay: (times: number) => void): number {
  if (length === 0) return 0;
  const perBatch = Math.max(1, Math.ceil(REPEATS / 10));
  replay(perBatch);
  const batches: number[] = [];
  for (let b = 0; b < 10; b += 1) {
    const t0 = process.hrtime.bigint();
    replay(perBatch);
    batches.push(Number(process.hrtime.bigint() - t0) / (perBatch * length));
  }
  batches.sort((x, y) => x - y);
  return batches[5]!;
}

/** The same checks and publishes, replayed on an EventBus (with its own counters) nobody listens to. */
function timeFastPath(sequence: readonly BridgeEventName[], published: readonly Published[]): { nsPerCheck: number; nsPerPublish: number; found: number } {
  const bus = new EventBus(new Counters());
  let found = 0;
  const nsPerCheck = timeReplay(sequence.length, (times) => {
    for (let r = 0; r < times; r += 1) for (let i = 0; i < sequence.length; i += 1) if (bus.active(sequence[i]!)) found += 1;
  });
  const nsPerPublish = timeReplay(published.length, (times) => {
    for (let r = 0; r < times; r += 1) for (let i = 0; i < published.length; i += 1) bus.publish(published[i]!.name, published[i]!.payload);
  });
  for (const { name } of published) if (bus.active(name)) found += 1;
  return { nsPerCheck, nsPerPublish, found };
}

const dir = mkdtempSync(join(tmpdir(), 'botbridge-micro-'));
try {
  const { sequence, published, activeChecks, standing } = await countedRun(resolve(values.config), dir);
  if (published.length === 0) throw new Error('nothing was published: is EventBus still the class the bridge uses?');
  const perMessage = (names: readonly string[]): Record<string, number> => {
    const byName: Record<string, number> = {};
    for (const name of names) byName[name] = (byName[name] ?? 0) + 1;
    for (const name of Object.keys(byName)) byName[name]! /= MESSAGES;
    return byName;
  };
  const checksByName = perMessage(sequence);
  const publishesByName = perMessage(published.map((p) => p.name));
  const { nsPerCheck, nsPerPublish, found } = timeFastPath(sequence, published);
  if (found !== 0) throw new Error(`the replay found ${found} subscribers: something subscribed in this process`);
  const checksPerMessage = sequence.length / MESSAGES;
  const publishesPerMessage = published.length / MESSAGES;
  const result: EventGuardCost = {
    messages: MESSAGES,
    connections: CONNECTIONS,
    checksPerMessage,
    checksByName,
    publishesPerMessage,
    publishesByName,
    activeChecks,
    standingSubscribers: standing,
    repeats: REPEATS,
    nsPerCheck,
    nsPerPublish,
    nsPerMessage: nsPerCheck * checksPerMessage + nsPerPublish * publishesPerMessage,
  };
  const list = (byName: Record<string, number>) => Object.entries(byName).map(([name, n]) => `${name} ${n.toFixed(2)}`).join(', ');
  process.stderr.write(
    `event fast path per # echo message: ${publishesPerMessage.toFixed(2)} publishes (${list(publishesByName)}); ` +
      `${checksPerMessage.toFixed(2)} active() checks (${list(checksByName)}); ${activeChecks} found a subscriber` +
      `${standing.length > 0 ? ` (not counting ${standing.join(', ')}, subscribed by the config's plugins throughout)` : ''}\n` +
      `no subscribers: ${nsPerPublish.toFixed(2)} ns per publish, ${nsPerCheck.toFixed(2)} ns per check, ${result.nsPerMessage.toFixed(1)} ns per message\n`,
  );
  if (values.out) writeFileSync(values.out, `${JSON.stringify(result)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
