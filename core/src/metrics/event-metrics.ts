import { Counter, Histogram, type Registry } from 'prom-client';
import type { EventBus } from '../events/bridge-events.js';

/** The events the histograms subscribe to while metrics are enabled (the rest stay free). */
export const METRIC_EVENTS = ['message:started', 'message:finished', 'plugin:handler', 'ping', 'reply:governed'] as const;

const SHORT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LONG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const RTT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Histograms that need one observation per message, handler or ping. They are fed from the
 * live event stream rather than from hooks in the pipeline, so a bridge without metrics pays
 * nothing; with metrics, these events are built for every message. Returns the disposer.
 */
export function registerEventMetrics(registry: Registry, events: EventBus): () => void {
  const registers = [registry];
  const queueWait = new Histogram({
    name: 'botbridge_queue_wait_seconds',
    help: 'Time a message waited in the queue for its slot.',
    labelNames: ['bot'],
    buckets: LONG_BUCKETS,
    registers,
  });
  const processing = new Histogram({
    name: 'botbridge_message_processing_seconds',
    help: 'Time from a message job start to its end, by outcome.',
    labelNames: ['bot', 'outcome'],
    buckets: LONG_BUCKETS,
    registers,
  });
  const handler = new Histogram({
    name: 'botbridge_plugin_handler_seconds',
    help: 'Duration of each plugin handler, by plugin, hook and outcome (ok, error, timeout).',
    labelNames: ['plugin', 'hook', 'outcome'],
    buckets: SHORT_BUCKETS,
    registers,
  });
  const rtt = new Histogram({
    name: 'botbridge_ping_rtt_seconds',
    help: 'Ping round-trip time, by bot.',
    labelNames: ['bot'],
    buckets: RTT_BUCKETS,
    registers,
  });
  const governed = new Histogram({
    name: 'botbridge_governor_delay_seconds',
    help: 'Time the send governor held a proactive send (queued behind replies, its room gap and jitter, its device rate), by bot.',
    labelNames: ['bot'],
    buckets: LONG_BUCKETS,
    registers,
  });
  const timeouts = new Counter({
    name: 'botbridge_timeouts_total',
    help: 'Deadlines missed since metrics started: message processing, plugin handlers.',
    labelNames: ['kind'],
    registers,
  });
  timeouts.inc({ kind: 'processing' }, 0);
  timeouts.inc({ kind: 'plugin_handler' }, 0);

  const scope = events.scope();
  scope.subscribe('message:started', (e) => queueWait.observe({ bot: e.botName }, e.waitMs / 1_000));
  scope.subscribe('message:finished', (e) => {
    processing.observe({ bot: e.botName, outcome: e.outcome }, e.durationMs / 1_000);
    if (e.outcome === 'timeout') timeouts.inc({ kind: 'processing' });
  });
  scope.subscribe('plugin:handler', (e) => {
    handler.observe({ plugin: e.plugin, hook: e.hook, outcome: e.outcome }, e.durationMs / 1_000);
    if (e.outcome === 'timeout') timeouts.inc({ kind: 'plugin_handler' });
  });
  scope.subscribe('ping', (e) => rtt.observe({ bot: e.botName }, e.rttMs / 1_000));
  scope.subscribe('reply:governed', (e) => {
    if (e.outcome === 'sent') governed.observe({ bot: e.botName }, e.delayMs / 1_000);
  });
  return () => scope.dispose();
}
