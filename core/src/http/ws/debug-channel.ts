import type { FastifyInstance } from 'fastify';
// Brings in the route option `websocket: true` and its handler signature.
import type {} from '@fastify/websocket';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { TokenBucket } from '../../transport/rate-limit.js';
import type { Bridge } from '../../bridge.js';
import { isBridgeError, reasonOf } from '../../errors.js';
import type { CoreLogger } from '../../logger.js';
import { SERVER_VERSION } from '../../version.js';
import { jsonSchema } from '../route-schemas.js';
import { ClientMessage, encode, STREAM_EVENT_NAMES, type ServerMessage, type StreamEventName, type SubscribeMessage } from './debug-protocol.js';
import type { EventHub, HubClient } from './event-hub.js';
import { EventFilter } from './event-filter.js';

/** A client that has not answered a ping for this long is gone (its socket may never close by itself). */
const HEARTBEAT_MS = 30_000;

export interface DebugChannelOptions {
  readonly bridge: Bridge;
  readonly hub: EventHub;
  readonly log: CoreLogger;
  readonly maxClients: number;
  readonly maxBufferedBytes: number;
  /** Issue 13: messages per second a client may send on average (burst twice that); beyond it it is closed. */
  readonly maxMessagesPerSecond?: number;
}

/**
 * GET /api/debug: the WebSocket debug channel. Token and origin are checked by the auth hook
 * before the upgrade (a browser sends the session cookie; other clients a bearer header or
 * `?token=`); the payload limit is the ws server's `maxPayload` (http.wsMaxPayloadBytes).
 */
export function registerDebugChannel(app: FastifyInstance, options: DebugChannelOptions): void {
  const open = new Set<DebugClient>();
  // Every client hears that the bridge is closing, whatever it subscribed to: its stream ends
  // with the admin server, after the drain. Subscribed only while a client is connected.
  const scope = options.bridge.events.scope();
  let closingNotice: (() => void) | null = null;
  const opened = (client: DebugClient) => {
    open.add(client);
    closingNotice ??= scope.subscribe('bridge:closing', ({ graceMs, flushMs }) => {
      for (const c of open) c.notify({ type: 'closing', graceMs, flushMs });
    });
  };
  const closed = (client: DebugClient) => {
    open.delete(client);
    if (open.size > 0 || closingNotice === null) return;
    closingNotice();
    closingNotice = null;
  };
  app.get('/api/debug', {
    websocket: true,
    config: { queryToken: true },
    schema: { querystring: jsonSchema(z.strictObject({ token: z.string().optional() })) },
  }, (socket, request) => {
    if (open.size >= options.maxClients) {
      options.log.warn({ remote: request.ip, limit: options.maxClients }, 'debug client refused: too many');
      socket.close(1013, 'too many debug clients');
      return;
    }
    const client = new DebugClient(socket, options, request.ip, () => closed(client));
    opened(client);
  });
}

class DebugClient implements HubClient {
  private filter: EventFilter | null = null;
  private dropped = 0;
  private alive = true;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly messageRate: TokenBucket | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: DebugChannelOptions,
    private readonly remote: string,
    private readonly onClosed: () => void,
  ) {
    options.log.info({ remote }, 'debug client connected');
    const rate = options.maxMessagesPerSecond;
    this.messageRate = rate === undefined ? undefined : new TokenBucket(rate, rate * 2);
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('pong', () => (this.alive = true));
    socket.on('error', (error) => options.log.debug({ remote, err: reasonOf(error) }, 'debug client socket error'));
    socket.on('close', () => this.closed());
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.send(encode({ type: 'hello', version: SERVER_VERSION, events: STREAM_EVENT_NAMES }));
  }

  listensTo(): ReadonlySet<StreamEventName> {
    return this.filter?.listensTo() ?? new Set();
  }

  offer(name: StreamEventName, event: Readonly<Record<string, unknown>>, encoded: string): void {
    if (this.filter?.accept(name, event)) this.send(encoded);
  }

  private receive(data: RawData, isBinary: boolean): void {
    // Every message may inject into the pipeline: a client over its rate is closed, not queued.
    if (this.messageRate !== undefined && this.messageRate.take(1) > 0) {
      this.options.log.warn({ remote: this.remote, limit: this.options.maxMessagesPerSecond }, 'debug client closed: message rate exceeded');
      this.socket.close(1008, 'message rate exceeded');
      return;
    }
    if (isBinary) return this.reply({ type: 'error', id: null, code: 'BRIDGE_ERR_HTTP_BAD_REQUEST', message: 'binary frames are not part of the protocol' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawText(data));
    } catch {
      return this.reply({ type: 'error', id: null, code: 'BRIDGE_ERR_HTTP_BAD_REQUEST', message: 'bad request: not JSON' });
    }
    const message = ClientMessage.safeParse(parsed);
    if (!message.success) {
      const reason = message.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      return this.reply({ type: 'error', id: idOf(parsed), code: 'BRIDGE_ERR_HTTP_BAD_REQUEST', message: `bad request: ${reason}` });
    }
    if (message.data.type === 'subscribe') return this.subscribe(message.data);
    const { id, message: input } = message.data;
    try {
      const result = this.options.bridge.admin.inject(input);
      this.options.log.info({ remote: this.remote, botName: input.botName, deviceId: input.deviceId, room: input.room }, 'sandbox message injected');
      this.reply({ type: 'injected', id: id ?? null, traceId: 'traceId' in result ? result.traceId : null, dropped: 'dropped' in result ? result.dropped : null });
    } catch (error) {
      this.reply({ type: 'error', id: id ?? null, code: isBridgeError(error) ? error.code : 'internal', message: reasonOf(error) });
    }
  }

  notify(message: ServerMessage): void {
    this.reply(message);
  }

  private subscribe(request: SubscribeMessage): void {
    const spec = {
      events: new Set(request.events ?? STREAM_EVENT_NAMES),
      bot: request.bot ?? null,
      device: request.device ?? null,
      room: request.room ?? null,
    };
    this.filter = new EventFilter(spec);
    this.options.hub.update(this);
    this.reply({ type: 'subscribed', events: [...spec.events], bot: spec.bot, device: spec.device, room: spec.room });
  }

  /** Answers are never dropped; events are, when the client stops reading (reported as `dropped`). */
  private reply(message: ServerMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(encode(message));
  }

  private send(encoded: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.dropped += 1;
      return;
    }
    if (this.dropped > 0) {
      this.socket.send(encode({ type: 'dropped', count: this.dropped }));
      this.dropped = 0;
    }
    this.socket.send(encoded);
  }

  private beat(): void {
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  private closed(): void {
    clearInterval(this.heartbeat);
    this.options.hub.remove(this);
    this.onClosed();
    this.options.log.info({ remote: this.remote }, 'debug client disconnected');
  }
}

/** The request id of a message that failed validation, so the client can still match the error. */
function idOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' && id.length <= 100 ? id : null;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}
