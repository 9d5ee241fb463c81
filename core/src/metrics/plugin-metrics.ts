import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type {
  Counter as CounterHandle,
  Gauge as GaugeHandle,
  Histogram as HistogramHandle,
  HistogramSpec,
  MetricLabels,
  MetricSpec,
  PluginMetrics,
} from '@botbridge/sdk';
import { BridgeError, reasonOf } from '../errors.js';

type Labels = Record<string, string | number>;

/** A plugin metric on a registry, shared by the generations of its plugin that register it alike. */
interface HeldMetric {
  readonly name: string;
  readonly plugin: string;
  /** Kind, help, labels and buckets: a reload that changes any of them gets a new metric. */
  readonly shape: string;
  readonly metric: unknown;
  refs: number;
}

/**
 * The plugin metrics of each registry (one per bridge). A hot reload sets the new plugin set
 * up while the old one still holds its metrics (in-flight messages finish on it): the same
 * plugin registering the same metric again shares the live one (its counts go on, and
 * prom-client's duplicate-name check does not fire); a changed shape replaces it, and the old
 * generation then writes to a metric no longer served. The last holder's dispose removes it.
 */
const held = new WeakMap<Registry, Map<string, HeldMetric>>();

function heldOf(registry: Registry): Map<string, HeldMetric> {
  let map = held.get(registry);
  if (map === undefined) held.set(registry, (map = new Map()));
  return map;
}

/**
 * `ctx.metrics` of one plugin: metrics on the bridge's prom-client registry (the one GET
 * /metrics serves), each one remembered so that `dispose()` removes it when the plugin stops.
 * A clash with a metric of the core or of another plugin fails the registration with a coded
 * error naming both the plugin and the metric, instead of prom-client's bare message.
 */
export class PluginMetricsAdapter implements PluginMetrics {
  private readonly owned: HeldMetric[] = [];

  constructor(
    private readonly plugin: string,
    private readonly registry: Registry,
  ) {}

  histogram<L extends string = never>(spec: HistogramSpec<L>): HistogramHandle<L> {
    const metric = this.register(spec, 'histogram', () =>
      new Histogram({ ...base(spec, this.registry), ...(spec.buckets ? { buckets: [...spec.buckets] } : {}) }),
    );
    return { observe: (labels: MetricLabels<L>, value: number) => metric.observe(labels as Labels, value) };
  }

  counter<L extends string = never>(spec: MetricSpec<L>): CounterHandle<L> {
    const metric = this.register(spec, 'counter', () => new Counter(base(spec, this.registry)));
    return {
      inc: (labels?: MetricLabels<L>, value = 1) => (labels === undefined ? metric.inc(value) : metric.inc(labels as Labels, value)),
    };
  }

  gauge<L extends string = never>(spec: MetricSpec<L>): GaugeHandle<L> {
    const metric = this.register(spec, 'gauge', () => new Gauge(base(spec, this.registry)));
    return {
      set: (labels: MetricLabels<L>, value: number) => metric.set(labels as Labels, value),
      inc: (labels?: MetricLabels<L>, value = 1) => (labels === undefined ? metric.inc(value) : metric.inc(labels as Labels, value)),
      dec: (labels?: MetricLabels<L>, value = 1) => (labels === undefined ? metric.dec(value) : metric.dec(labels as Labels, value)),
    };
  }

  /** Removes this plugin's metrics from the registry (the plugin stopped). */
  dispose(): void {
    const ledger = heldOf(this.registry);
    for (const entry of this.owned.splice(0)) {
      entry.refs -= 1;
      if (entry.refs > 0 || ledger.get(entry.name) !== entry) continue;
      ledger.delete(entry.name);
      this.registry.removeSingleMetric(entry.name);
    }
  }

  private register<M>(spec: MetricSpec<string> & { buckets?: readonly number[] }, kind: string, create: () => M): M {
    const { name } = spec;
    const ledger = heldOf(this.registry);
    const shape = JSON.stringify([kind, spec.help, spec.labelNames ?? [], spec.buckets ?? null]);
    const previous = ledger.get(name);
    // Registered by an earlier generation of this plugin (a reload), not twice by this one.
    if (previous !== undefined && previous.plugin === this.plugin && !this.owned.includes(previous)) {
      if (previous.shape === shape && this.registry.getSingleMetric(name) === previous.metric) {
        previous.refs += 1;
        this.owned.push(previous);
        return previous.metric as M;
      }
      ledger.delete(name);
      this.registry.removeSingleMetric(name);
    }
    let metric: M;
    try {
      metric = create();
    } catch (error) {
      throw new BridgeError('BRIDGE_ERR_PLUGIN_METRIC', { plugin: this.plugin, name, reason: reasonOf(error) }, { cause: error });
    }
    const entry: HeldMetric = { name, plugin: this.plugin, shape, metric, refs: 1 };
    ledger.set(name, entry);
    this.owned.push(entry);
    return metric;
  }
}

function base(spec: MetricSpec<string>, registry: Registry) {
  return { name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])], registers: [registry] };
}
