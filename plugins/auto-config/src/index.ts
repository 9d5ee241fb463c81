export { autoConfig } from './plugin.js';
export { autoConfigSchema } from './config.js';
export type { AutoConfigConfig, AutoConfigConfigInput } from './config.js';
export { fileNameOf, botNameOf } from './bot-files.js';
