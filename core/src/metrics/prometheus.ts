import { Registry, type Metric } from 'prom-client';
import type { Bridge } from '../bridge.js';
import { registerCounterMetrics } from './counter-metrics.js';
import { registerEventMetrics } from './event-metrics.js';
import { registerProcessMetrics } from './process-metrics.js';
import { registerStateMetrics } from './state-metrics.js';

type NamedMetric = Metric & { readonly name: string };

export interface BridgeMetrics {
  /** The Content-Type of `scrape()`'s text (Prometheus text exposition format 0.0.4). */
  readonly contentType: string;
  /** The exposition text of the bridge's registry (core and plugin metrics), collected now. */
  scrape(): Promise<string>;
  /** Removes the core's metrics, ends their event subscriptions and the delay monitor. Idempotent. */
  close(): void;
}

/**
 * Adds the core's metrics to the bridge's own registry (`bridge.metricsRegistry`, which also
 * holds plugin metrics) for as long as they are served. Counters and gauges are read from the
 * bridge at scrape time; only the latency histograms subscribe to events (event-metrics.ts).
 */
export function createBridgeMetrics(bridge: Bridge): BridgeMetrics {
  const registry = bridge.metricsRegistry;
  // Registered on a scratch registry first: a name clash (a plugin took a core name) then fails
  // here, before the bridge's registry holds half of the core's metrics.
  const core = new Registry();
  registerCounterMetrics(core, bridge.admin.counters);
  registerStateMetrics(core, bridge);
  const disposers = [registerEventMetrics(core, bridge.events), registerProcessMetrics(core)];
  // getMetricsAsArray returns the metric objects themselves (its typing says MetricObject).
  const metrics = core.getMetricsAsArray() as unknown as NamedMetric[];
  try {
    for (const metric of metrics) registry.registerMetric(metric);
  } catch (error) {
    for (const metric of metrics) if (registry.getSingleMetric(metric.name) === metric) registry.removeSingleMetric(metric.name);
    for (const dispose of disposers) dispose();
    throw error;
  }
  return {
    contentType: registry.contentType,
    scrape: () => registry.metrics(),
    close() {
      for (const dispose of disposers.splice(0)) dispose();
      for (const metric of metrics.splice(0)) if (registry.getSingleMetric(metric.name) === metric) registry.removeSingleMetric(metric.name);
    },
  };
}
