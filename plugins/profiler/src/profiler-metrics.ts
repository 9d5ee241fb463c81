import type { BridgeEventMap, PluginMetrics } from '@botbridge/sdk';
import { NO_COMMAND } from './command-labels.js';
import type { MessageProfile } from './trace-collector.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface ProfilerMetrics {
  message(profile: MessageProfile, command: string | null, slow: boolean): void;
  handler(event: BridgeEventMap['plugin:handler'], command: string | null): void;
  dropped(reason: 'expired' | 'overflow'): void;
}

/**
 * The profiler's series on the bridge's Prometheus registry (GET /metrics), in seconds:
 * end-to-end per command, each stage per plugin, each handler per plugin, hook and command.
 */
export function createProfilerMetrics(metrics: PluginMetrics): ProfilerMetrics {
  const message = metrics.histogram({
    name: 'botbridge_profile_message_seconds',
    help: 'Time from admission to the last reply (or the job end), by command and outcome.',
    labelNames: ['command', 'outcome'],
    buckets: BUCKETS,
  });
  const stage = metrics.histogram({
    name: 'botbridge_profile_stage_seconds',
    help: 'Time of each stage of a message (queue, concurrency, core, onReceive, onMessage, beforeReply, hold, send), by plugin.',
    labelNames: ['stage', 'plugin'],
    buckets: BUCKETS,
  });
  const handler = metrics.histogram({
    name: 'botbridge_profile_handler_seconds',
    help: 'Duration of each plugin handler, by plugin, hook and the command of its message.',
    labelNames: ['plugin', 'hook', 'command'],
    buckets: BUCKETS,
  });
  const slowMessages = metrics.counter({
    name: 'botbridge_profile_slow_messages_total',
    help: 'Messages at or above the slow-message threshold, by command.',
    labelNames: ['command'],
  });
  const dropped = metrics.counter({
    name: 'botbridge_profile_dropped_total',
    help: 'Messages the profiler gave up following: expired (never completed) or overflow (too many at once).',
    labelNames: ['reason'],
  });
  return {
    message(profile, command, slow) {
      const label = command ?? NO_COMMAND;
      message.observe({ command: label, outcome: profile.outcome }, profile.totalMs / 1_000);
      for (const s of profile.stages) stage.observe({ stage: s.stage, plugin: s.plugin ?? '' }, s.ms / 1_000);
      if (slow) slowMessages.inc({ command: label });
    },
    handler(event, command) {
      handler.observe({ plugin: event.plugin, hook: event.hook, command: command ?? NO_COMMAND }, event.durationMs / 1_000);
    },
    dropped(reason) {
      dropped.inc({ reason });
    },
  };
}
