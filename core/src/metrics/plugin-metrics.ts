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

/**
 * `ctx.metrics` of one plugin: metrics on the bridge's prom-client registry (the one GET
 * /metrics serves), each one remembered so that `dispose()` removes it when the plugin stops.
 * A clash with a metric of the core or of another plugin fails the registration with a coded
 * error naming both the plugin and the metric, instead of prom-client's bare message.
 */
export class PluginMetricsAdapter implements PluginMetrics {
  private readonly owned: string[] = [];

  constructor(
    private readonly plugin: string,
    private readonly registry: Registry,
  ) {}

  histogram<L extends string = never>(spec: HistogramSpec<L>): HistogramHandle<L> {
    const metric = this.register(spec.name, () =>
      new Histogram({ ...base(spec, this.registry), ...(spec.buckets ? { buckets: [...spec.buckets] } : {}) }),
    );
    return { observe: (labels: MetricLabels<L>, value: number) => metric.observe(labels as Labels, value) };
  }

  counter<L extends string = never>(spec: MetricSpec<L>): CounterHandle<L> {
    const metric = this.register(spec.name, () => new Counter(base(spec, this.registry)));
    return {
      inc: (labels?: MetricLabels<L>, value = 1) => (labels === undefined ? metric.inc(value) : metric.inc(labels as Labels, value)),
    };
  }

  gauge<L extends string = never>(spec: MetricSpec<L>): GaugeHandle<L> {
    const metric = this.register(spec.name, () => new Gauge(base(spec, this.registry)));
    return {
      set: (labels: MetricLabels<L>, value: number) => metric.set(labels as Labels, value),
      inc: (labels?: MetricLabels<L>, value = 1) => (labels === undefined ? metric.inc(value) : metric.inc(labels as Labels, value)),
      dec: (labels?: MetricLabels<L>, value = 1) => (labels === undefined ? metric.dec(value) : metric.dec(labels as Labels, value)),
    };
  }

  /** Removes this plugin's metrics from the registry (the plugin stopped). */
  dispose(): void {
    for (const name of this.owned.splice(0)) this.registry.removeSingleMetric(name);
  }

  private register<M>(name: string, create: () => M): M {
    let metric: M;
    try {
      metric = create();
    } catch (error) {
      throw new BridgeError('BRIDGE_ERR_PLUGIN_METRIC', { plugin: this.plugin, name, reason: reasonOf(error) }, { cause: error });
    }
    this.owned.push(name);
    return metric;
  }
}

function base(spec: MetricSpec<string>, registry: Registry) {
  return { name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])], registers: [registry] };
}
