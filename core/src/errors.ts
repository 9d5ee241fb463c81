/**
 * The one catalogue of errors the core raises. Every code is stable (logs, metrics and docs
 * refer to it), has a message template with `{name}` placeholders, and a row in
 * docs/errors.md (a test checks both directions).
 */
export const errorCatalogue = {
  // transport
  BRIDGE_ERR_CONNECTION_LIMIT: 'connection refused: {limit} connections already open',
  BRIDGE_ERR_HANDSHAKE_LIMIT: 'connection refused: {limit} connections already in handshake',
  BRIDGE_ERR_ADDRESS_HANDSHAKE_LIMIT: 'connection refused: this address already holds {limit} handshake slots and its share of the waiting line',
  BRIDGE_ERR_LINE_TOO_LONG: 'line exceeds {limit} bytes',
  BRIDGE_ERR_JSON_INVALID: 'line is not valid JSON: {reason}',
  BRIDGE_ERR_JSON_LIMITS: 'JSON exceeds limits: {reason}',
  BRIDGE_ERR_JSON_POISON: 'JSON contains a forbidden key: {key}',
  BRIDGE_ERR_LISTEN: 'cannot listen for bridge scripts on {host}:{port}: {reason}; {hint}',
  BRIDGE_ERR_OUTPUT_OVERFLOW: 'client stopped reading: {bytes} bytes pending (limit {limit})',
  BRIDGE_ERR_REJECTED_LINES: '{count} rejected lines within {windowMs} ms (last: {reason})',
  BRIDGE_ERR_BANNED: '{kind} {subject} is banned for {remainingS} s',
  // session
  BRIDGE_ERR_HANDSHAKE_TIMEOUT: 'handshake not completed within {timeoutMs} ms',
  BRIDGE_ERR_HANDSHAKE_INVALID: 'invalid handshake: {reason}',
  BRIDGE_ERR_HANDSHAKE_REFUSED: 'handshake refused: {reason}',
  BRIDGE_ERR_DEVICE_REFUSED: 'device {botName}/{deviceId} is {status}',
  BRIDGE_ERR_REPLACED: 'replaced by a newer connection of the same device',
  BRIDGE_ERR_SILENT_CLIENT: 'no packet for {silentMs} ms ({intervals} ping intervals)',
  BRIDGE_ERR_AUTH_MISSING: 'packet has no auth block',
  BRIDGE_ERR_AUTH_INVALID: 'auth block is malformed: {reason}',
  BRIDGE_ERR_AUTH_SIGNATURE: 'auth signature does not match',
  BRIDGE_ERR_AUTH_STALE: 'auth timestamp is {skewMs} ms away from server time (window {windowMs} ms)',
  BRIDGE_ERR_AUTH_IDENTITY: 'auth identity {authBot}/{authDevice} differs from the handshake',
  BRIDGE_ERR_AUTH_REPEATED: '{failures} auth failures within {windowMs} ms',
  BRIDGE_ERR_AUTH_REPLAYED: 'auth block refused as a replay: {reason}',
  BRIDGE_ERR_PACKET_INVALID: 'invalid {event} packet: {reason}',
  BRIDGE_ERR_UNKNOWN_EVENT: 'unknown event {event}',
  BRIDGE_ERR_PRE_HANDSHAKE_OVERFLOW: 'line before the handshake dropped: {held} lines ({heldBytes} bytes) already held',
  // pipeline
  BRIDGE_ERR_TEXT_TOO_LONG: 'chat text of {length} characters exceeds {limit}',
  BRIDGE_ERR_PROCESSING_TIMEOUT: 'message processing exceeded {timeoutMs} ms',
  BRIDGE_ERR_ENQUEUE_AFTER_CLOSE: 'cannot enqueue: the bridge is closing',
  BRIDGE_ERR_SHUTDOWN: 'aborted by shutdown after a grace period of {graceMs} ms',
  BRIDGE_ERR_REPLY_AFTER_DONE: 'reply after the message job ended',
  BRIDGE_ERR_REPLY_TOO_LARGE: 'reply of {length} characters exceeds {limit}',
  BRIDGE_ERR_REPLY_NO_CLIENT: 'no live client of bot {botName} to send to',
  BRIDGE_ERR_REPLY_DEVICE_NOT_APPROVED: 'no approved live client of bot {botName} to send to',
  BRIDGE_ERR_REPLY_EXPIRED: '{expired} queued replies expired before a device of their bot came back',
  // plugins
  BRIDGE_ERR_PLUGIN_CONFIG: 'invalid plugin config: {issues}',
  BRIDGE_ERR_PLUGIN_DUPLICATE: 'plugin {plugin} is listed twice',
  BRIDGE_ERR_PLUGIN_SETUP: 'plugin {plugin}: setup failed: {reason}',
  BRIDGE_ERR_PLUGIN_SETUP_TIMEOUT: 'plugin {plugin}: setup did not finish within {timeoutMs} ms',
  BRIDGE_ERR_PLUGIN_HOOK: 'plugin {plugin}: {hook} handler threw: {reason}',
  BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT: 'plugin {plugin}: {hook} handler did not finish within {timeoutMs} ms',
  BRIDGE_ERR_REGISTER_AFTER_START: 'plugin {plugin}: cannot register {hook} after start',
  BRIDGE_ERR_PLUGIN_BOT_CONFIG: 'plugin {plugin}: per-bot config schema has no default at {path}: {reason}',
  BRIDGE_ERR_BOT_CONFIG_SOURCE: 'plugin {plugin}: cannot provide per-bot config: plugin {holder} already does',
  BRIDGE_ERR_PLUGIN_SERVICE_MISSING: 'plugin {plugin}: needs service {service}, which no plugin listed before it provides',
  BRIDGE_ERR_PLUGIN_SERVICE_DUPLICATE: 'plugin {plugin}: cannot provide service {service}: plugin {holder} already does',
  BRIDGE_ERR_PLUGIN_METRIC: 'plugin {plugin}: cannot register metric {name}: {reason}',
  BRIDGE_ERR_EVENT_NOT_PUBLISHABLE: 'event {name} is published by the core only',
  BRIDGE_ERR_UNKNOWN_TABLE: 'the core writes no batched table {table}',
  // config, store, lifecycle
  BRIDGE_ERR_CONFIG_INVALID: 'invalid config: {issues}',
  BRIDGE_ERR_CONFIG_LOAD: 'cannot load config file {file}: {reason}',
  BRIDGE_ERR_STORE_URL: 'unsupported store URL {url}: {reason}',
  BRIDGE_ERR_STORE_UNAVAILABLE: 'store unavailable: {reason}',
  BRIDGE_ERR_STORE_TIMEOUT: 'store {operation} took longer than {timeoutMs} ms',
  BRIDGE_ERR_STORE_KEY_CONFLICT: '{table} has no room for {key}: {reason}',
  BRIDGE_ERR_ALREADY_STARTED: 'the bridge is already {state}',
  BRIDGE_ERR_NOT_RUNNING: 'the bridge is {state}, not running',
  BRIDGE_ERR_SHUTTING_DOWN: 'the bridge is shutting down; retry in {retryAfterSec} s',
  // cluster
  BRIDGE_ERR_CLUSTER_CONNECT: 'cluster mode: cannot reach NATS at {url}: {reason}; start nats-server with JetStream (nats-server -js) or remove the cluster key to run as a single node',
  BRIDGE_ERR_CLUSTER_NODE_ID_TAKEN: 'cluster mode: node id {nodeId} is held by a live node (lease refreshed {ageMs} ms ago); give this node another cluster.nodeId or --node-id',
  BRIDGE_ERR_CLUSTER_UNAVAILABLE: 'cluster mode: NATS is {state}: {reason}',
  // admin HTTP server
  BRIDGE_ERR_HTTP_NO_TOKEN: 'the admin HTTP server would listen on {host}, which is not a loopback address, without an admin token (set http.adminToken or BOTBRIDGE_ADMIN_TOKEN)',
  BRIDGE_ERR_HTTP_LISTEN: 'the admin HTTP server cannot listen on {host}:{port}: {reason}',
  BRIDGE_ERR_HTTP_UNAUTHORIZED: 'a valid admin token is required',
  BRIDGE_ERR_HTTP_RATE_LIMITED: 'too many failed authentications from {address}; retry in {retryAfterS} s',
  BRIDGE_ERR_HTTP_ORIGIN: 'origin {origin} is not allowed',
  BRIDGE_ERR_HTTP_NOT_FOUND: '{what} not found',
  BRIDGE_ERR_HTTP_BAD_REQUEST: 'bad request: {reason}',
  BRIDGE_ERR_ADMIN_DISCONNECT: 'disconnected through the admin API',
} as const;

export type BridgeErrorCode = keyof typeof errorCatalogue;

export class BridgeError extends Error {
  readonly code: BridgeErrorCode;
  readonly params: Readonly<Record<string, unknown>>;

  constructor(code: BridgeErrorCode, params: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(formatMessage(code, params), options);
    this.name = 'BridgeError';
    this.code = code;
    this.params = params;
  }
}

export function formatMessage(code: BridgeErrorCode, params: Record<string, unknown>): string {
  return errorCatalogue[code].replace(/\{(\w+)\}/g, (_, key: string) =>
    key in params ? String(params[key]) : `{${key}}`,
  );
}

export function isBridgeError(value: unknown, code?: BridgeErrorCode): value is BridgeError {
  return value instanceof BridgeError && (code === undefined || value.code === code);
}

/** A readable reason for anything thrown (plugins may throw non-Errors). */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
