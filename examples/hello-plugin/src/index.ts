export { hello } from './plugin.js';
export { helloConfigSchema, helloBotConfigSchema } from './config.js';
export type { HelloConfig } from './config.js';
