import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';
import { registerRuntimeMetrics } from './runtime-metrics.js';

const NS_PER_S = 1e9;

/**
 * Event-loop delay and process memory, under the names prom-client's default metrics use so
 * existing dashboards work. Not `collectDefaultMetrics`: it starts a delay monitor and a GC
 * observer that can never be stopped, and tests run several bridges in one process. The delay
 * statistics cover the time since the previous scrape. Returns the disposer.
 */
export function registerProcessMetrics(registry: Registry): () => void {
  const registers = [registry];
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();

  // prom-client runs every collect of a scrape synchronously before any microtask, so the
  // window is reset once, after all delay gauges of this scrape have read it.
  let resetQueued = false;
  const read = (value: () => number) => {
    if (!resetQueued) {
      resetQueued = true;
      queueMicrotask(() => {
        resetQueued = false;
        delay.reset();
      });
    }
    return delay.count > 0 ? value() / NS_PER_S : 0;
  };
  const stats: Readonly<Record<string, () => number>> = {
    min: () => delay.min,
    max: () => delay.max,
    mean: () => delay.mean,
    p50: () => delay.percentile(50),
    p90: () => delay.percentile(90),
    p99: () => delay.percentile(99),
  };
  for (const [stat, value] of Object.entries(stats)) {
    new Gauge({
      name: `nodejs_eventloop_lag_${stat}_seconds`,
      help: `Event-loop delay since the previous scrape: ${stat}.`,
      registers,
      collect() {
        this.set(read(value));
      },
    });
  }

  const memory: Readonly<Record<string, [string, (m: NodeJS.MemoryUsage) => number]>> = {
    process_resident_memory_bytes: ['Resident memory size in bytes.', (m) => m.rss],
    nodejs_heap_size_total_bytes: ['V8 heap size in bytes.', (m) => m.heapTotal],
    nodejs_heap_size_used_bytes: ['V8 heap used in bytes.', (m) => m.heapUsed],
    nodejs_external_memory_bytes: ['Memory of C++ objects bound to JavaScript objects.', (m) => m.external],
  };
  for (const [name, [help, pick]] of Object.entries(memory)) {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(pick(process.memoryUsage()));
      },
    });
  }
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch in seconds.',
    registers,
    collect() {
      this.set(Math.round(performance.timeOrigin / 1_000));
    },
  });
  const disposeRuntime = registerRuntimeMetrics(registry);
  return () => {
    delay.disable();
    disposeRuntime();
  };
}
