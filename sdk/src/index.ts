export { definePlugin, usePlugin, defineConfig } from './plugin.js';
export type { PluginDefinition, PluginUse, PluginEntry, BridgeConfig } from './plugin.js';
export { text, texts, mediaUrl, mediaBase64, noReply, toReplies } from './replies.js';
export type { MediaOptions } from './replies.js';
export { bridgeConfigSchema, DEFAULT_SECRET_KEY, DEFAULT_SALT } from './config-schema.js';
export type { BridgeSettings, BridgeSettingsInput } from './config-schema.js';
export type * from './types.js';
export { z } from 'zod';
