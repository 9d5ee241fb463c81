import { z } from 'zod';

/**
 * The admin API's request and response shapes, written once in zod. Fastify validates and
 * serialises with the JSON Schema generated from them (ajv, fast-json-stringify), and the
 * handlers' types are inferred from the same schemas, so nothing is written twice. Response
 * schemas also guarantee no field leaves that is not listed here.
 */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io });
  return rest;
}

const name = z.string().min(1).max(200);
const decimalId = z.string().regex(/^\d+$/).max(40);
const approvalStatus = z.enum(['pending', 'approved', 'denied', 'revoked', 'blocked']);

/** Verbs of the approval routes and the status each one sets. */
export const ACTION_STATUS = { approve: 'approved', deny: 'denied', revoke: 'revoked', block: 'blocked' } as const;
const action = z.enum(['approve', 'deny', 'revoke', 'block']);

export const Empty = z.strictObject({});

export const DeviceActionParams = z.strictObject({ bot: name, device: name, action });
export const RoomActionParams = z.strictObject({ bot: name, room: z.string().min(1).max(600), action });
export const ClientParams = z.strictObject({ bot: name, device: name });
export const ListQuery = z.strictObject({ bot: name.optional(), status: approvalStatus.optional() });
export const ReasonBody = z.strictObject({ reason: z.string().max(500).optional() });

export const SendBody = z.strictObject({
  botName: name,
  room: z.string().min(1).max(500),
  channelId: decimalId.nullable().optional(),
  deviceId: name.nullable().optional(),
  text: z.string().min(1),
});

export const InjectBody = z.strictObject({
  botName: name,
  deviceId: name,
  room: z.string().min(1).max(500),
  channelId: decimalId.nullable().optional(),
  text: z.string().min(1),
  sender: z.string().min(1).max(200).optional(),
  userHash: z.string().max(200).nullable().optional(),
  isGroupChat: z.boolean().optional(),
  isMention: z.boolean().optional(),
});

export const ErrorReply = z.object({ error: z.string(), message: z.string() });

const monitoring = z.object({
  totalMemory: z.number().nullable(),
  memoryUsage: z.number().nullable(),
  memoryPercent: z.number().nullable(),
  messageQueueSize: z.number().nullable(),
  activeRooms: z.number().nullable(),
});

export const ClientDto = z.object({
  connectionId: z.string(),
  botName: z.string(),
  deviceId: z.string(),
  clientType: z.string(),
  version: z.string(),
  protocol: z.enum(['v3.2', 'v3.3']).optional(),
  deviceIP: z.string().nullable(),
  deviceInfo: z.string().nullable(),
  remoteAddress: z.string(),
  remotePort: z.number(),
  connectedAt: z.number(),
  approval: approvalStatus,
  lastPingAt: z.number().nullable(),
  rttMs: z.number().nullable(),
  monitoring: monitoring.nullable(),
  pendingOutputBytes: z.number(),
  /** Cluster mode: the node holding the connection. */
  node: z.string().optional(),
});

export const DeviceDto = z.object({
  botName: z.string(),
  deviceId: z.string(),
  status: approvalStatus,
  ipAddress: z.string().nullable(),
  clientType: z.string().nullable(),
  clientVersion: z.string().nullable(),
  approvedAt: z.string().nullable(),
  rejectionReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** A live connection of this device exists now. */
  connected: z.boolean(),
});

export const RoomDto = z.object({
  botName: z.string(),
  roomId: z.string(),
  roomName: z.string(),
  status: approvalStatus,
  roomConcurrency: z.number().nullable(),
  approvedAt: z.string().nullable(),
  rejectionReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const StatusChanged = z.object({ status: approvalStatus });
export const Disconnected = z.object({ disconnected: z.literal(true) });
export const BanDto = z.object({ kind: z.enum(['device', 'address']), subject: z.string(), since: z.number(), until: z.number(), reason: z.string() });
export const LiftBanBody = z.strictObject({ kind: z.enum(['device', 'address']), subject: z.string().min(1).max(400) });
export const Lifted = z.object({ lifted: z.literal(true) });
/** The sdk's SendResult: `reason` when rejected, `plugin` when dropped, `deviceId` when written. */
export const SendReply = z.object({
  status: z.enum(['written', 'queued', 'expired', 'dropped', 'rejected']),
  traceId: z.string(),
  deviceId: z.string().optional(),
  plugin: z.string().nullable().optional(),
  reason: z.enum(['too_long', 'invalid', 'no_client', 'device_not_approved', 'unknown_room', 'cluster_timeout']).optional(),
});
export const InjectReply = z.object({ traceId: z.string().optional(), dropped: z.string().optional() });
export const ReloadReply = z.object({ devices: z.number(), changed: z.number() });

export const PluginDto = z.object({
  name: z.string(),
  version: z.string().nullable(),
  state: z.string(),
  error: z.string().nullable(),
});

const dispatcherStats = z.object({
  queued: z.number(),
  running: z.number(),
  lingering: z.number(),
  activeRooms: z.number(),
  paused: z.boolean(),
  saturated: z.boolean(),
  runningPerBot: z.record(z.string(), z.number()),
  totals: z.record(z.string(), z.number()),
  maxWaitMs: z.number(),
});

export const StatsDto = z.object({
  version: z.string(),
  phase: z.string(),
  uptimeMs: z.number(),
  listen: z.object({ host: z.string(), port: z.number() }).nullable(),
  connections: z.number(),
  clients: z.number(),
  saturated: z.boolean(),
  dispatcher: dispatcherStats,
  writers: z.record(z.string(), z.number()),
  /** Replies waiting in the outbox for a device of their bot (rooms: rooms with waiting replies). */
  outbox: z.object({ queued: z.number(), rooms: z.number() }),
  counters: z.record(z.string(), z.number()),
});

export const HealthDto = z.object({ status: z.enum(['ok', 'closing']) });
/** `cluster` only in cluster mode: `degraded` while NATS is lost (the node serves its own phones). */
export const ReadyDto = z.object({
  ready: z.boolean(),
  store: z.string(),
  listener: z.string(),
  cluster: z.object({ node: z.string(), nats: z.string(), state: z.enum(['ok', 'degraded']), nodes: z.number() }).optional(),
});
