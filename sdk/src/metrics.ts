/**
 * Metrics a plugin registers on the bridge's Prometheus registry (served by the admin HTTP
 * server at GET /metrics). Register them in `setup` and keep the handle: registering is the
 * expensive part, observing is cheap. They are removed from the registry when the plugin stops.
 * Names follow Prometheus rules (`[a-zA-Z_:][a-zA-Z0-9_:]*`); prefix them with `botbridge_` and
 * your plugin's name so they cannot clash with the core's. Keep label values few: a label per
 * user or per message text makes a series per value.
 */

export type MetricLabels<L extends string = string> = Partial<Record<L, string | number>>;

export interface MetricSpec<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
}

export interface HistogramSpec<L extends string = string> extends MetricSpec<L> {
  /** Upper bounds of the buckets, in the metric's unit (seconds for `*_seconds`). */
  readonly buckets?: readonly number[];
}

export interface Histogram<L extends string = string> {
  observe(labels: MetricLabels<L>, value: number): void;
}

export interface Counter<L extends string = string> {
  inc(labels?: MetricLabels<L>, value?: number): void;
}

export interface Gauge<L extends string = string> {
  set(labels: MetricLabels<L>, value: number): void;
  inc(labels?: MetricLabels<L>, value?: number): void;
  dec(labels?: MetricLabels<L>, value?: number): void;
}

/** `ctx.metrics`. A name already registered (by the core or another plugin) throws BRIDGE_ERR_PLUGIN_METRIC. */
export interface PluginMetrics {
  histogram<L extends string = never>(spec: HistogramSpec<L>): Histogram<L>;
  counter<L extends string = never>(spec: MetricSpec<L>): Counter<L>;
  gauge<L extends string = never>(spec: MetricSpec<L>): Gauge<L>;
}
