import { z } from 'zod';

/**
 * The schema of `bridge.config.ts`. Every key has the default of the production systems
 * (docs/configuration.md lists them). The core validates the operator's file against it at
 * start; the config type is inferred from it, never written twice.
 */

/** The secret and salt built into every deployed v3.2.x bridge script (PROTOCOL.md §4). */
export const DEFAULT_SECRET_KEY = '8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8';
export const DEFAULT_SALT = '7f$kLz9^&*1pXyZ2';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const botAuthSchema = z.strictObject({
  secretKey: z.string().min(1).optional(),
  salt: z.string().optional(),
});

const roomOverrideSchema = z.strictObject({
  /** Max messages of this room processed at once (overrides pipeline.concurrency.perRoom). */
  concurrency: positiveInt.optional(),
  /** false: replies of this room go out as soon as they are ready, not in message order. */
  ordered: z.boolean().optional(),
});

export const bridgeConfigSchema = z.strictObject({
  listen: z.strictObject({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(1485),
  }).prefault({}),
  limits: z.strictObject({
    /** Connections (handshaken or not) beyond this are refused at accept. */
    maxConnections: positiveInt.default(100),
    /** Connections that have not completed the handshake. */
    maxHandshakingConnections: positiveInt.default(20),
    /** One NDJSON line incl. its `\n` (the old server's limit). */
    maxLineBytes: positiveInt.default(1_048_576),
    /** Line limit before the handshake completed. */
    maxHandshakeLineBytes: positiveInt.default(16_384),
    maxJsonDepth: positiveInt.default(16),
    maxJsonKeys: positiveInt.default(2_000),
    /** Chat text above this many UTF-16 units is rejected and counted. */
    maxTextLength: positiveInt.default(65_000),
    /** A client whose unsent output exceeds this is closed (it stopped reading). */
    maxPendingOutputBytes: positiveInt.default(8 * 1_048_576),
  }).prefault({}),
  session: z.strictObject({
    handshakeTimeoutMs: positiveInt.default(10_000),
    pingIntervalMs: positiveInt.default(30_000),
    /** The first ping goes out after a random delay in [0, pingJitterMs]. */
    pingJitterMs: nonNegativeInt.default(5_000),
    /** A client silent for this many ping intervals is closed. */
    silentIntervalsBeforeClose: positiveInt.default(3),
  }).prefault({}),
  auth: z.strictObject({
    /** enforce: bad auth drops the packet. log: only logs (migration from the old server). */
    mode: z.enum(['enforce', 'log']).default('enforce'),
    secretKey: z.string().min(1).default(DEFAULT_SECRET_KEY),
    salt: z.string().default(DEFAULT_SALT),
    timestampWindowMs: positiveInt.default(300_000),
    /** This many auth failures within failureWindowMs close the connection. */
    maxFailures: positiveInt.default(5),
    failureWindowMs: positiveInt.default(60_000),
    /** Per-bot secret/salt, keyed by botName. */
    bots: z.record(z.string(), botAuthSchema).default({}),
  }).prefault({}),
  approval: z.strictObject({
    /** Dev/test only: approve new devices and rooms on first contact. Logged loudly. */
    autoApprove: z.boolean().default(false),
    /** How often approval changes written by other processes are picked up. */
    refreshIntervalMs: positiveInt.default(2_000),
  }).prefault({}),
  pipeline: z.strictObject({
    dedupWindowMs: positiveInt.default(300_000),
    /** A logId-less legacy twin within this window of its logId twin is a duplicate. */
    legacyTwinWindowMs: positiveInt.default(5_000),
    queueCapacity: positiveInt.default(10_000),
    concurrency: z.strictObject({
      global: positiveInt.default(31),
      perBot: positiveInt.default(30),
      perRoom: positiveInt.default(3),
    }).prefault({}),
    processingTimeoutMs: positiveInt.default(300_000),
    /** A reply waits at most this long for earlier messages of its room. */
    replyHoldMs: nonNegativeInt.default(5_000),
    /** Gap between several replies to one message. */
    replyGapMs: nonNegativeInt.default(1_000),
    /** Per-room overrides keyed `<botName>/<channelId>`. */
    rooms: z.record(z.string(), roomOverrideSchema).default({}),
  }).prefault({}),
  replies: z.strictObject({
    maxTextLength: positiveInt.default(65_000),
    minMediaWaitMs: nonNegativeInt.default(0),
    maxMediaWaitMs: positiveInt.default(60_000),
  }).prefault({}),
  pluginHost: z.strictObject({
    setupTimeoutMs: positiveInt.default(10_000),
    /** Deadline for handlers of hooks other than onMessage (which has processingTimeoutMs). */
    hookTimeoutMs: positiveInt.default(5_000),
    teardownTimeoutMs: positiveInt.default(5_000),
  }).prefault({}),
  store: z.strictObject({
    /** `sqlite:PATH` (default) or, later, `mysql://user:pass@host:port/db`. */
    url: z.string().min(1).default('sqlite:./data/botbridge.db'),
    /** Chat-log rows are written in batches of at most this many. */
    chatLogBatchSize: positiveInt.default(200),
    /** Rows waiting to be written beyond this are dropped and counted. */
    writeBufferLimit: positiveInt.default(50_000),
  }).prefault({}),
  shutdown: z.strictObject({
    /** In-flight work gets this long to finish after SIGTERM before it is aborted. */
    graceMs: positiveInt.default(10_000),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** Human-readable output; defaults to true on a TTY. */
    pretty: z.boolean().optional(),
  }).prefault({}),
});

export type BridgeSettings = z.output<typeof bridgeConfigSchema>;
export type BridgeSettingsInput = z.input<typeof bridgeConfigSchema>;
