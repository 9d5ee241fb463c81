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
/** memory.heapGrowthPercent's default (docs/configuration.md, "memory"; measured in docs/benchmarks.md). */
const HEAP_GROWTH_DEFAULT = 100;

const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/** Log categories of the core; plugins log under `plugin:<name>`. */
export const LOG_CATEGORIES = ['connection', 'handshake', 'message', 'reply', 'ping', 'queue', 'store'] as const;
export type LogCategory = (typeof LOG_CATEGORIES)[number];
const logCategory = z.string().regex(new RegExp(`^(${LOG_CATEGORIES.join('|')}|plugin:.+)$`), {
  message: `expected one of ${LOG_CATEGORIES.join(', ')} or plugin:<name>`,
});

/** Shortest secret accepted (issue 13: a 1-byte key was accepted). Measured in UTF-8 bytes, as HMAC uses it. */
export const MIN_SECRET_BYTES = 16;
const secretString = z.string().refine((value) => new TextEncoder().encode(value).length >= MIN_SECRET_BYTES, {
  message: `a secret must be at least ${MIN_SECRET_BYTES} bytes`,
});
/** Epoch milliseconds or an ISO-8601 date-time with offset. */
const instant = z.union([z.number().int(), z.iso.datetime({ offset: true }).transform((value) => Date.parse(value))]);

/** One secret of a rotation: accepted from validFrom (inclusive) until validUntil (exclusive). */
export const signingSecretSchema = z.strictObject({
  key: secretString,
  /** Defaults to the section's salt (auth.salt, or the bot's salt). */
  salt: z.string().optional(),
  validFrom: instant.optional(),
  validUntil: instant.optional(),
});

const botAuthSchema = z.strictObject({
  secretKey: secretString.optional(),
  salt: z.string().optional(),
  /** Several secrets with validity windows; when given, they replace secretKey for this bot. */
  secrets: z.array(signingSecretSchema).optional(),
});

const roomOverrideSchema = z.strictObject({
  /** Max messages of this room processed at once (overrides pipeline.concurrency.perRoom). */
  concurrency: positiveInt.optional(),
  /** false: replies of this room go out as soon as they are ready, not in message order. */
  ordered: z.boolean().optional(),
});

/** One integration of the push API: its token (inline or from a file) and what it may reach. */
const integrationSchema = z.strictObject({
  /** Shown in logs instead of the token. */
  name: z.string().min(1).max(100),
  token: secretString.optional(),
  /** A file holding the token (trimmed); read when the admin server starts. */
  tokenFile: z.string().min(1).optional(),
  /** Bots this token may send as. */
  bots: z.array(z.string().min(1)).min(1),
  /** Rooms (channel ids, or `name:<room>` for rooms without one) it may send to; absent: every room of its bots. */
  rooms: z.array(z.string().min(1)).min(1).optional(),
}).refine((entry) => (entry.token === undefined) !== (entry.tokenFile === undefined), { message: 'give exactly one of token and tokenFile' });

/** The send governor's limits that a bot may override (`replies.governor.bots.<botName>`). */
const governorBotSchema = z.strictObject({
  ratePerSecond: z.number().positive().optional(),
  burst: positiveInt.optional(),
  roomGapMs: nonNegativeInt.optional(),
  jitterMs: nonNegativeInt.optional(),
  dailyCap: nonNegativeInt.optional(),
  failureCooldownMs: nonNegativeInt.optional(),
});

/** A room's own pacing (`replies.governor.rooms.<botName>/<channelId>`). */
const governorRoomSchema = z.strictObject({
  roomGapMs: nonNegativeInt.optional(),
  jitterMs: nonNegativeInt.optional(),
});

export const bridgeConfigSchema = z.strictObject({
  listen: z.strictObject({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(1485),
    /**
     * An optional TLS port beside the plain one, with the same caps and pipeline (docs/security.md):
     * PEM files, re-read when they change and on `botbridge reload`. Shorthand for
     * `listeners: [{ port: listen.port }, { port: tls.port, tls: { cert, key } }]`.
     */
    tls: z.strictObject({
      host: z.string().optional(),
      port: z.number().int().min(0).max(65535).default(1486),
      cert: z.string().min(1),
      key: z.string().min(1),
      reloadMs: positiveInt.default(60_000),
    }).optional(),
  }).prefault({}),
  /**
   * The bot ports, when more than one plain port or TLS ports are wanted: every entry gets the
   * same caps, bans and pipeline. When given, it is the whole list (listen.port is not opened
   * unless listed; listen.host is the default host). Certificates are re-read when their files
   * change (tls.reloadMs) and on `botbridge reload` / SIGHUP; live connections keep theirs.
   */
  listeners: z.array(z.strictObject({
    host: z.string().optional(),
    port: z.number().int().min(0).max(65535),
    tls: z.strictObject({
      cert: z.string().min(1),
      key: z.string().min(1),
      reloadMs: positiveInt.default(60_000),
    }).optional(),
  })).min(1).optional(),
  limits: z.strictObject({
    /** Connections (handshaken or not) beyond this are refused at accept. */
    maxConnections: positiveInt.default(100),
    /** Connections that have not completed the handshake (handshake slots). */
    maxHandshakingConnections: positiveInt.default(20),
    /**
     * Handshake slots one remote address may hold at once. Idle sockets from one address can
     * then never take every slot; its further connections wait like any other.
     */
    maxHandshakingPerAddress: positiveInt.default(10),
    /**
     * New connections that wait for a handshake slot instead of being refused (a restart storm:
     * every phone reconnects in the same second). One address may hold at most half of them.
     */
    maxWaitingConnections: nonNegativeInt.default(512),
    /** How long a connection waits for a handshake slot before it is refused. */
    handshakeSlotWaitMs: positiveInt.default(5_000),
    /**
     * Messages of one connection in the pipeline (queued or running) at once; at this count its
     * reading pauses until one of them finishes, so one chatty phone cannot fill the queue.
     */
    maxQueuedPerConnection: positiveInt.default(100),
    /** One NDJSON line incl. its `\n` (the old server's limit). */
    maxLineBytes: positiveInt.default(1_048_576),
    /** Line limit before the handshake completed. */
    maxHandshakeLineBytes: positiveInt.default(16_384),
    /**
     * v3.3 lines the script's offline queue sends before its handshake, held until the handshake
     * (the script sends at most 10 per cycle); more, or more bytes, are counted, logged and dropped.
     */
    maxPreHandshakeLines: positiveInt.default(10),
    maxPreHandshakeBytes: positiveInt.default(65_536),
    maxJsonDepth: positiveInt.default(16),
    maxJsonKeys: positiveInt.default(2_000),
    /** Most elements of one JSON array, checked before JSON.parse runs. */
    maxJsonArrayItems: positiveInt.default(1_000),
    /** Most JSON tokens (brackets, braces, strings, ':' and ',') of one line, checked before JSON.parse runs. */
    maxJsonTokens: positiveInt.default(20_000),
    /** Bytes one connection may send per second on average; beyond it reading pauses (throttled, nothing lost). */
    maxBytesPerSecond: positiveInt.default(262_144),
    /** Lines one connection may send per second on average; beyond it reading pauses. */
    maxMessagesPerSecond: positiveInt.default(1_000),
    /** Seconds of the byte and message rates a connection may use at once before it is throttled (the byte burst is at least maxLineBytes). */
    rateBurstSeconds: positiveInt.default(2),
    /** After the handshake, this many rejected lines (bad JSON, invalid packets) within rejectedLineWindowMs close the connection. */
    maxRejectedLines: positiveInt.default(5),
    rejectedLineWindowMs: positiveInt.default(60_000),
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
    secretKey: secretString.default(DEFAULT_SECRET_KEY),
    salt: z.string().default(DEFAULT_SALT),
    /** Several secrets with validity windows (rotation); when non-empty, they replace secretKey. */
    secrets: z.array(signingSecretSchema).default([]),
    /**
     * A JSON file `{ secrets?, bots?: { <botName>: { secrets } } }` re-read when it changes,
     * without a restart; its entries replace the config's for the sections it names.
     */
    secretsFile: z.string().min(1).optional(),
    /** How often secretsFile is checked for a change. */
    secretsReloadMs: positiveInt.default(5_000),
    timestampWindowMs: positiveInt.default(300_000),
    /** Signed packets remembered per (botName, deviceID) to refuse replays within the timestamp window. */
    replayCachePerDevice: positiveInt.default(5_000),
    /** Identities the replay cache tracks at once. */
    replayCacheDevices: positiveInt.default(2_000),
    /** This many auth failures within failureWindowMs close the connection. */
    maxFailures: positiveInt.default(5),
    failureWindowMs: positiveInt.default(60_000),
    /** Per-bot secret/salt, keyed by botName. */
    bots: z.record(z.string(), botAuthSchema).default({}),
  }).prefault({}),
  /** Temporary bans on the bot port for failed authentication and reconnect flapping (docs/security.md). */
  bans: z.strictObject({
    enabled: z.boolean().default(true),
    /** Strikes of one device (auth failures, rejected-line closes, connects) within windowMs that ban it. */
    deviceThreshold: positiveInt.default(15),
    /** Failures from one address (auth, invalid or missing handshakes, rejected-line closes) within windowMs that ban it. */
    addressThreshold: positiveInt.default(15),
    windowMs: positiveInt.default(60_000),
    durationMs: positiveInt.default(300_000),
    /** Devices and addresses tracked at once (least recently struck forgotten first). */
    maxEntries: positiveInt.default(10_000),
  }).prefault({}),
  approval: z.strictObject({
    /** Dev/test only: approve new devices and rooms on first contact. Logged loudly. */
    autoApprove: z.boolean().default(false),
    /** How often approval changes written by other processes are picked up. */
    refreshIntervalMs: positiveInt.default(2_000),
    /**
     * How often every device and cached room is re-read in full, for writers that change a
     * status without touching updated_at (PHP pages, manual SQL).
     */
    fullRefreshIntervalMs: positiveInt.default(5_000),
    /**
     * While the store cannot be read, cached approvals keep serving live connections for this
     * long after the last successful refresh; then their messages go unanswered until it is back.
     */
    staleAfterMs: positiveInt.default(120_000),
  }).prefault({}),
  pipeline: z.strictObject({
    dedupWindowMs: positiveInt.default(300_000),
    /**
     * Message ids (plus legacy-twin arrivals) dedup remembers at most; past it the oldest are
     * forgotten although still inside the window. An id costs about 24 bytes (hashed).
     */
    dedupMaxEntries: positiveInt.default(200_000),
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
    /**
     * Replies for a bot with no live device are kept in the store (the outbox) and delivered in
     * room order when a device of the bot is back; past `ttlMs` (per bot: the core section's
     * `outboxTtlMs`) they expire. `enabled: false`: such replies are rejected (`no_client`).
     */
    outbox: z.strictObject({
      enabled: z.boolean().default(true),
      ttlMs: positiveInt.default(600_000),
      /** How often expired rows are looked for (and stalled deliveries retried). */
      sweepIntervalMs: positiveInt.default(5_000),
      /** Rows expired per sweep at most (the rest wait for the next sweep). */
      sweepBatchSize: positiveInt.default(500),
    }).prefault({}),
    /**
     * The send governor (docs/architecture.md, "Send governor"): paces proactive sends (the push
     * API, schedulers, `bridge.send`) per device and per room, behind replies. Replies to
     * messages are never delayed by it (their pace is the sequencer's replyGapMs) but count
     * towards the device's rate and daily total.
     */
    governor: z.strictObject({
      enabled: z.boolean().default(true),
      /** Sustained sends per second of one device (token bucket); the old scheduler sent a bot's schedules 0.5 s apart. */
      ratePerSecond: z.number().positive().default(2),
      /** Sends one device may make at once after a quiet spell. */
      burst: positiveInt.default(5),
      /** Least time between a send to a room and the next proactive send to it; default: the room's reply gap (pipeline.replyGapMs, 1 s). */
      roomGapMs: nonNegativeInt.optional(),
      /** A random 0..jitterMs added to each proactive send's room gap. */
      jitterMs: nonNegativeInt.default(500),
      /** Sends of one device per day (server's local midnight) after which proactive sends are rejected (`daily_cap`); 0: no cap. */
      dailyCap: nonNegativeInt.default(0),
      /** After a send to a device fails at its socket, its proactive sends wait this long. */
      failureCooldownMs: nonNegativeInt.default(30_000),
      /** Proactive sends waiting for one room at most; one more is rejected (`queue_full`). */
      maxQueuedPerRoom: positiveInt.default(500),
      /** Proactive sends waiting in all rooms at most. */
      maxQueued: positiveInt.default(10_000),
      /** Per-bot limits, keyed by botName. */
      bots: z.record(z.string(), governorBotSchema).default({}),
      /** Per-room pacing, keyed `<botName>/<channelId>` (or `<botName>/name:<room>`). */
      rooms: z.record(z.string(), governorRoomSchema).default({}),
    }).prefault({}),
  }).prefault({}),
  pluginHost: z.strictObject({
    setupTimeoutMs: positiveInt.default(10_000),
    /** Deadline for handlers of hooks other than onMessage (which has processingTimeoutMs). */
    hookTimeoutMs: positiveInt.default(5_000),
    teardownTimeoutMs: positiveInt.default(5_000),
  }).prefault({}),
  store: z.strictObject({
    /** `sqlite:PATH` (default) or `mysql://user:pass@host:port/db` (MySQL/MariaDB). */
    url: z.string().min(1).default('sqlite:./data/botbridge.db'),
    /** Chat-log and ping rows are written in batches of at most this many (one INSERT on MySQL). */
    chatLogBatchSize: positiveInt.default(1_000),
    /** Rows waiting to be written (per writer) at which reading from phones pauses until half are written. */
    writeBufferLimit: positiveInt.default(10_000),
    /** Rows kept beyond writeBufferLimit while the store is down; beyond that they are dropped, counted and logged. */
    writeSpillLimit: nonNegativeInt.default(40_000),
    /**
     * The chat-log buffer's bound in bytes (texts run to 65,000 characters): reading pauses at
     * this many bytes buffered too; the spill bound scales by the same ratio as the row bounds.
     */
    writeBufferBytes: positiveInt.default(16 * 1_048_576),
    /** MySQL: connections in the pool at most. */
    connectionLimit: positiveInt.default(10),
    /** MySQL: callers waiting for a pooled connection at most; one more fails at once. */
    queueLimit: positiveInt.default(1_000),
    /** MySQL: longest wait for a connection (new or pooled). */
    connectTimeoutMs: positiveInt.default(5_000),
    /** MySQL: longest wait for one statement; its connection is then destroyed. */
    queryTimeoutMs: positiveInt.default(5_000),
    /** MySQL: zone of DATETIME values: `server` (what the server's NOW() uses), `UTC` or `±HH:MM`. */
    timeZone: z.string().regex(/^(server|UTC|[+-]\d{2}:\d{2})$/).default('server'),
  }).prefault({}),
  monitor: z.strictObject({
    /** A row in kb_system_monitor this often (the Python server's 5 minutes). */
    systemSampleIntervalMs: positiveInt.default(300_000),
    /** kb_system_monitor.server_name; the host name when unset. */
    serverName: z.string().min(1).max(100).optional(),
    /** Filesystem whose usage is sampled. */
    diskPath: z.string().min(1).default('/'),
  }).prefault({}),
  /** How the process gives memory back after a burst (docs/architecture.md, "Memory"). */
  memory: z.strictObject({
    /**
     * After a burst (at least 1,000 admitted messages), two full GCs once nothing has been
     * admitted for this long: the heap V8 grew under load returns to the OS. 0 turns it off.
     */
    releaseAfterQuietMs: nonNegativeInt.default(10_000),
    /**
     * How far V8 lets the old generation grow past what survived its last full GC, in percent
     * (the next full GC comes at (1 + p/100) × that). 0 keeps V8's own policy, which on a
     * machine with more than 16 GiB lets the heap reach ~4× its live size under load.
     */
    heapGrowthPercent: nonNegativeInt.max(400).default(HEAP_GROWTH_DEFAULT),
  }).prefault({}),
  retention: z.strictObject({
    /** Days of kb_chat_logs rows kept; 0 keeps them forever (other tools read this table). */
    chatLogDays: nonNegativeInt.default(0),
    /** Days of kb_ping_monitor rows kept; 0 keeps them forever. */
    pingDays: nonNegativeInt.default(0),
    /** Days of kb_system_monitor rows kept; 0 keeps them forever. */
    systemDays: nonNegativeInt.default(0),
    /** How often expired rows are deleted. */
    intervalMs: positiveInt.default(3_600_000),
    /** Rows per DELETE statement (short statements never lock a table others read for long). */
    batchSize: positiveInt.default(1_000),
  }).prefault({}),
  /** The journal of admitted messages: dedup across restarts and replay of unanswered ones (docs/architecture.md). */
  journal: z.strictObject({
    enabled: z.boolean().default(true),
    /** Admissions and done marks within this many ms are written in one transaction (group commit). */
    commitIntervalMs: positiveInt.default(5),
    /** At start, unanswered messages wait this long for an approved phone of their bot before they are left unreplayed. */
    replayWaitMs: positiveInt.default(30_000),
    /** Unanswered messages older than this at start are not replayed (marked expired). */
    replayMaxAgeMs: positiveInt.default(600_000),
    /** Journal entries waiting for a commit beyond this are dropped (store down), counted and logged. */
    bufferLimit: positiveInt.default(50_000),
    /** How often rows older than max(dedupWindowMs, replayMaxAgeMs) are deleted, in bounded batches. */
    pruneIntervalMs: positiveInt.default(60_000),
    pruneBatchSize: positiveInt.default(1_000),
  }).prefault({}),
  shutdown: z.strictObject({
    /** In-flight work gets this long to finish after SIGTERM before it is aborted. */
    graceMs: positiveInt.default(10_000),
    /**
     * After the grace period, replies still held or unwritten get this long to reach the
     * sockets before the connections close. The whole drain is bounded by graceMs + 2 × flushMs.
     */
    flushMs: positiveInt.default(2_000),
  }).prefault({}),
  log: z.strictObject({
    level: logLevel.default('info'),
    /** Human-readable output; defaults to true on a TTY. */
    pretty: z.boolean().optional(),
    /** Level per category (LOG_CATEGORIES or `plugin:<name>`), overriding `level` for it. */
    categories: z.record(logCategory, logLevel).default({}),
  }).prefault({}),
  /**
   * Cluster mode (docs/cluster.md): several nodes serve one fleet, coordinated through NATS with
   * JetStream (presence, routing, leases, approval events); durable state stays in the SQL store.
   * Absent: one process, exactly as before (the cluster module is not even loaded).
   */
  cluster: z.strictObject({
    /** NATS server URL(s), comma-separated: `nats://127.0.0.1:4222`. */
    url: z.string().min(1),
    /** This node's id (letters, digits, `-`, `_`); default `<hostname>-<pid>`. Shown in logs, metrics, /api/clients. */
    nodeId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'letters, digits, - and _ only (at most 64)' }).optional(),
    /** Prefix of this fleet's subjects and KV buckets: fleets sharing one NATS server use different prefixes. */
    prefix: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, { message: 'letters, digits, - and _ only (at most 32)' }).default('botbridge'),
    /** A node whose lease is older than this is dead (the lease bucket's TTL). */
    leaseTtlMs: positiveInt.default(10_000),
    /** How often a node refreshes its lease. */
    leaseRefreshMs: positiveInt.default(3_000),
    /** Longest wait for NATS at start (then the node refuses to start) and for one KV operation. */
    connectTimeoutMs: positiveInt.default(5_000),
    /** Longest wait for a reply delivered through its holder node. */
    requestTimeoutMs: positiveInt.default(2_000),
    /** Fleet views (`/api/clients` of every node) wait this long for the other nodes' answers. */
    fleetTimeoutMs: positiveInt.default(500),
    /** NATS ping interval: a dead NATS connection is noticed within about two of these. */
    pingIntervalMs: positiveInt.default(2_000),
  }).optional(),
  /** The admin HTTP server of `botbridge start`: admin API, /metrics, debug channel, dashboard. */
  http: z.strictObject({
    enabled: z.boolean().default(true),
    /** Loopback by default; any other address requires an admin token. */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Bearer token of every admin route (BOTBRIDGE_ADMIN_TOKEN overrides it). Never logged. */
    adminToken: z.string().min(16).optional(),
    /** Larger request bodies are refused with 413. */
    bodyLimitBytes: positiveInt.default(262_144),
    /** A request's headers must arrive within this (slow-header sockets are closed). */
    headersTimeoutMs: positiveInt.default(10_000),
    /** A whole request (headers and body) must arrive within this; an endless body is cut (408). */
    requestTimeoutMs: positiveInt.default(30_000),
    /** Messages one debug-channel client may send per second on average (burst: twice that); beyond it the client is closed. */
    wsMaxMessagesPerSecond: positiveInt.default(20),
    /** Failed authentications from one address within authFailureWindowMs before it gets 429. */
    authFailureLimit: positiveInt.default(10),
    authFailureWindowMs: positiveInt.default(60_000),
    /** `scheme://host:port` origins allowed besides the server's own (browser requests, WebSocket upgrades). */
    allowedOrigins: z.array(z.string()).default([]),
    /** Serve GET /metrics (Prometheus) and keep its histograms fed from the event stream. */
    metrics: z.boolean().default(true),
    /** Largest message a debug-channel client may send. */
    wsMaxPayloadBytes: positiveInt.default(262_144),
    /** Debug-channel clients connected at once. */
    wsMaxClients: positiveInt.default(16),
    /** Unsent bytes a debug-channel client may hold before its events are dropped (and counted). */
    wsMaxBufferedBytes: positiveInt.default(4_194_304),
    /** Period of the `queue:stats` event on the debug channel. */
    statsIntervalMs: positiveInt.default(1_000),
    /**
     * Tokens of other systems (an order webhook, an alerting tool) that may only push messages
     * (`POST /api/bots/:bot/rooms/:channelId/messages`, `POST /api/send`) to the bots and rooms
     * listed. Never logged; compared in constant time.
     */
    integrations: z.array(integrationSchema).default([]).superRefine((list, ctx) => {
      const seen = new Set<string>();
      for (const [index, entry] of list.entries()) {
        if (seen.has(entry.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `integration ${entry.name} is listed twice` });
        seen.add(entry.name);
      }
    }),
    /** A repeated `Idempotency-Key` of one caller within windowMs gets the first answer again without a second send. */
    idempotency: z.strictObject({
      windowMs: positiveInt.default(86_400_000),
      /** Keys remembered at most (the oldest are forgotten first). */
      maxKeys: positiveInt.default(10_000),
    }).prefault({}),
  }).prefault({}),
}).superRefine((settings, ctx) => {
  if (settings.listeners !== undefined && settings.listen.tls !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['listen', 'tls'], message: 'give either listeners or listen.tls (its shorthand), not both' });
  }
});

export type BridgeSettings = z.output<typeof bridgeConfigSchema>;
export type BridgeSettingsInput = z.input<typeof bridgeConfigSchema>;
