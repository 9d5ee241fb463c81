import { readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The rest of prom-client's default process metrics, under its names and label names, so
 * Grafana's standard Node.js dashboards (e.g. "NodeJS Application Dashboard") find them: CPU
 * seconds, open and maximum file descriptors, virtual memory and heap (Linux), heap spaces,
 * active handles/requests/resources, the scrape-time event-loop lag, GC durations and
 * `nodejs_version_info`. process-metrics.ts has the delay percentiles and memory gauges. Not
 * `collectDefaultMetrics` (see there): the GC observer here is disconnected by the disposer.
 */

const NS_PER_S = 1e9;
const US_PER_S = 1e6;
const GC_KINDS: Readonly<Record<number, string>> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Values of `Name:   123 kB` lines of /proc/self/status, in bytes. */
function procStatus(): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m) values.set(m[1]!, Number(m[2]) * 1024);
  }
  return values;
}

function maxFds(): number | undefined {
  const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : undefined;
}

export function registerRuntimeMetrics(registry: Registry): () => void {
  const registers = [registry];

  // Counters that mirror a total the process keeps: each increased by what it grew since its last scrape.
  const cpu: Readonly<Record<string, [string, (u: NodeJS.CpuUsage) => number]>> = {
    process_cpu_user_seconds_total: ['Total user CPU time spent in seconds.', (u) => u.user],
    process_cpu_system_seconds_total: ['Total system CPU time spent in seconds.', (u) => u.system],
    process_cpu_seconds_total: ['Total user and system CPU time spent in seconds.', (u) => u.user + u.system],
  };
  for (const [name, [help, pick]] of Object.entries(cpu)) {
    let last = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = pick(process.cpuUsage());
        this.inc(Math.max(0, now - last) / US_PER_S);
        last = now;
      },
    });
  }

  if (process.platform === 'linux') {
    new Gauge({
      name: 'process_open_fds',
      help: 'Number of open file descriptors.',
      registers,
      collect() {
        // Minus the descriptor readdir itself holds open on /proc/self/fd.
        this.set(readdirSync('/proc/self/fd').length - 1);
      },
    });
    const limit = maxFds();
    if (limit !== undefined) new Gauge({ name: 'process_max_fds', help: 'Maximum number of open file descriptors.', registers }).set(limit);
    const status: Readonly<Record<string, [string, string]>> = {
      process_virtual_memory_bytes: ['Virtual memory size in bytes.', 'VmSize'],
      process_heap_bytes: ['Process heap size in bytes.', 'VmData'],
    };
    for (const [name, [help, field]] of Object.entries(status)) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(procStatus().get(field) ?? 0);
        },
      });
    }
  }

  const spaces: Readonly<Record<string, [string, (s: ReturnType<typeof getHeapSpaceStatistics>[number]) => number]>> = {
    nodejs_heap_space_size_total_bytes: ['Process heap space size total from Node.js in bytes.', (s) => s.space_size],
    nodejs_heap_space_size_used_bytes: ['Process heap space size used from Node.js in bytes.', (s) => s.space_used_size],
    nodejs_heap_space_size_available_bytes: ['Process heap space size available from Node.js in bytes.', (s) => s.space_available_size],
  };
  for (const [name, [help, pick]] of Object.entries(spaces)) {
    new Gauge({
      name,
      help,
      labelNames: ['space'],
      registers,
      collect() {
        for (const space of getHeapSpaceStatistics()) this.set({ space: space.space_name.replace(/_space$/, '') }, pick(space));
      },
    });
  }

  const active: Readonly<Record<string, [string, () => number]>> = {
    nodejs_active_handles_total: ['Total number of active handles.', () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length],
    nodejs_active_requests_total: ['Total number of active requests.', () => (process as unknown as { _getActiveRequests(): unknown[] })._getActiveRequests().length],
    nodejs_active_resources_total: ['Total number of active resources that are currently keeping the event loop alive.', () => process.getActiveResourcesInfo().length],
  };
  for (const [name, [help, count]] of Object.entries(active)) {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(count());
      },
    });
  }

  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers,
    // What a callback queued now waits for, measured at scrape time (as prom-client does).
    async collect() {
      const start = process.hrtime.bigint();
      await new Promise((resolve) => setImmediate(resolve));
      this.set(Number(process.hrtime.bigint() - start) / NS_PER_S);
    },
  });

  const [major, minor, patch] = process.versions.node.split('.');
  new Gauge({ name: 'nodejs_version_info', help: 'Node.js version info.', labelNames: ['version', 'major', 'minor', 'patch'], registers })
    .set({ version: process.version, major: major!, minor: minor!, patch: patch! }, 1);

  const gc = new Histogram({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    registers,
  });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'unknown';
      gc.observe({ kind }, entry.duration / 1_000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
