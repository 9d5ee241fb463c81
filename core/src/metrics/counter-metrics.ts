import { Counter, type Registry } from 'prom-client';
import type { CounterReader } from '../admin/bridge-admin.js';
import { COUNTERS, type CounterSpec } from './counters.js';

/**
 * Prometheus counters read from the bridge's in-process `Counters` at scrape time, so the hot
 * path keeps its one Map increment and pays nothing for Prometheus. Each declared counter
 * (`COUNTERS`) `name{label}` becomes `<metric>{<labelName>="label"}`.
 */
type Mirror = CounterSpec & { readonly counter: string };

const MIRRORS: readonly Mirror[] = Object.entries(COUNTERS).map(([counter, spec]) => ({ counter, ...spec }));

interface Entry {
  readonly name: string;
  readonly label: string | undefined;
  readonly value: number;
}

function entries(counters: CounterReader): Entry[] {
  const out: Entry[] = [];
  for (const [key, value] of Object.entries(counters.snapshot())) {
    const open = key.indexOf('{');
    if (open < 0) out.push({ name: key, label: undefined, value });
    else out.push({ name: key.slice(0, open), label: key.slice(open + 1, -1), value });
  }
  return out;
}

function labelsOf(mirror: Mirror, label: string | undefined): Record<string, string> {
  if (mirror.labels.length === 0) return {};
  if (mirror.labels.length === 1) return { [mirror.labels[0]!]: label ?? '' };
  // plugin_errors{plugin:hook}: hook names never contain ':', plugin names might.
  const text = label ?? '';
  const cut = text.lastIndexOf(':');
  return cut < 0 ? { plugin: text, hook: '' } : { plugin: text.slice(0, cut), hook: text.slice(cut + 1) };
}

export function registerCounterMetrics(registry: Registry, counters: CounterReader): void {
  for (const mirror of MIRRORS) {
    new Counter({
      name: mirror.metric,
      help: mirror.help,
      labelNames: mirror.labels,
      registers: [registry],
      collect() {
        this.reset();
        for (const entry of entries(counters)) {
          if (entry.name === mirror.counter) this.inc(labelsOf(mirror, entry.label), entry.value);
        }
      },
    });
  }
}
