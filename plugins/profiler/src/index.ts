export { profiler } from './plugin.js';
export { profilerConfigSchema, profilerBotConfigSchema } from './config.js';
export type { ProfilerConfig, ProfilerConfigInput } from './config.js';
export { partitionStages, stageKey } from './stage-partition.js';
export type { StageInterval, StageName } from './stage-partition.js';
export type { MessageProfile, TraceStep } from './trace-collector.js';
export type { ProfileStage } from './profile-event.js';
