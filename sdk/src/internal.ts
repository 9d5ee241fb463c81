/**
 * `@botbridge/sdk/internal`: runtime values the core needs that must stay next to the types they
 * belong to (the config schema the config types are inferred from, the event names beside their
 * payload types). Not part of the plugin API: plugins import `@botbridge/sdk`, and nothing here
 * is covered by its stability promise.
 */
export { bridgeConfigSchema, DEFAULT_SECRET_KEY, DEFAULT_SALT, LOG_CATEGORIES, MIN_SECRET_BYTES, signingSecretSchema } from './config-schema.js';
export { toReplies } from './replies.js';
export { BRIDGE_EVENT_CHANNEL_PREFIX, CORE_EVENT_NAMES } from './hooks.js';
