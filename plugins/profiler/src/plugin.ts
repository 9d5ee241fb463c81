import { performance } from 'node:perf_hooks';
import { definePlugin, text } from '@botbridge/sdk';
import { defineCommand } from '@botbridge/plugin-commands';
import { CommandLabels } from './command-labels.js';
import { profilerBotConfigSchema, profilerConfigSchema } from './config.js';
import type {} from './profile-event.js';
import { ProfileWindow } from './profile-window.js';
import { createProfilerMetrics, type ProfilerMetrics } from './profiler-metrics.js';
import { stageKey } from './stage-partition.js';
import { summaryText } from './summary-text.js';
import { TraceCollector, type MessageProfile } from './trace-collector.js';

const now = () => performance.timeOrigin + performance.now();

/**
 * Per-message stage timings, built only on the public event stream: where each message's time
 * went (queue, concurrency, core, each plugin's handlers, beforeReply, reply hold, send), as
 * Prometheus histograms, as `profile:message` events, as a warning with the whole trace for
 * a message slower than the threshold, and as a Korean summary for `# profile` (the bot's admins, as the commands plugin knows them).
 * Without this plugin nobody listens to those events, and the core builds none of them.
 */
export const profiler = definePlugin({
  name: 'profiler',
  version: '0.1.0',
  config: profilerConfigSchema,
  botConfig: profilerBotConfigSchema,
  // `# profile` goes through the commands plugin: list it before the profiler.
  inject: ['commands'],
  setup(ctx, config) {
    const labels = new CommandLabels(config.commandPrefixes, config.maxCommandLabels);
    const window = new ProfileWindow(config.windowSize);
    const metrics: ProfilerMetrics | null = config.metrics ? createProfilerMetrics(ctx.metrics) : null;

    const completed = (profile: MessageProfile) => {
      const command = labels.commandOf(profile.text);
      const slow = profile.totalMs >= ctx.botConfig(profile.botName).slowMessageMs;
      window.add(profile.botName, { totalMs: profile.totalMs, stages: profile.stages, command, slow });
      metrics?.message(profile, command, slow);
      if (slow) {
        ctx.log.warn(
          {
            traceId: profile.traceId,
            botName: profile.botName,
            room: profile.room,
            command,
            outcome: profile.outcome,
            totalMs: round(profile.totalMs),
            stages: Object.fromEntries(profile.stages.map((s) => [stageKey(s), round(s.ms)])),
            trace: profile.trace,
          },
          `slow message: ${Math.round(profile.totalMs)} ms from admission to its last reply`,
        );
      }
      if (ctx.events.active('profile:message')) {
        const { traceId, botName, room, outcome, totalMs, stages } = profile;
        ctx.events.publish('profile:message', { traceId, botName, room, command, outcome, totalMs, stages, slow, at: now() });
      }
    };

    const collector = new TraceCollector({
      onProfile: completed,
      maxInFlight: config.maxInFlight,
      onDropped: (reason) => metrics?.dropped(reason),
    });
    collector.subscribe(ctx.events);
    if (metrics !== null) {
      ctx.events.subscribe('plugin:handler', (event) => {
        const messageText = event.traceId === null ? undefined : collector.textOf(event.traceId);
        metrics.handler(event, messageText === undefined ? null : labels.commandOf(messageText));
      });
    }
    ctx.setInterval(() => collector.expire(now() - config.maxAgeMs), Math.min(30_000, Math.max(1_000, config.maxAgeMs / 4)));

    ctx.inject('commands').register(
      defineCommand({
        name: 'profile',
        trigger: config.command.trigger,
        description: '메시지 처리 시간 프로파일 요약 (reset: 기록 비우기)',
        adminOnly: true,
        run({ ctx: message, prompt, trigger }) {
          const botName = message.message.botName;
          if (prompt === 'reset') {
            window.clear(botName);
            return text('🧹 프로파일 기록을 비웠습니다.');
          }
          if (prompt !== '') return text(`사용법: ${trigger} (요약) 또는 ${trigger} reset (기록 비우기)`);
          return text(summaryText(botName, window.summary(botName), ctx.botConfig(botName).slowMessageMs));
        },
      }),
    );
  },
});

function round(ms: number): number {
  return Math.round(ms * 1_000) / 1_000;
}
