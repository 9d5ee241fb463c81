import type { ClientInfo } from '@botbridge/sdk';
import { formatMessage, reasonOf } from '../errors.js';
import { banParams } from './ban-strikes.js';
import { eventTime } from '../events/bridge-events.js';
import { TcpListener } from '../transport/tcp-listener.js';
import type { TlsCertificate } from '../transport/tls-context.js';
import { ClientSession } from './client-session.js';
import { isRefusedStatus } from './handshake.js';
import type { SessionDeps } from './session-deps.js';
import { SessionDrain } from './session-drain.js';

const REFUSAL_LABELS = {
  BRIDGE_ERR_CONNECTION_LIMIT: 'refused_cap',
  BRIDGE_ERR_HANDSHAKE_LIMIT: 'refused_handshake_cap',
  BRIDGE_ERR_ADDRESS_HANDSHAKE_LIMIT: 'refused_address_cap',
} as const;

/** Everything a session needs except the two callbacks the manager itself provides. */
export type ConnectionManagerOptions = Omit<SessionDeps, 'onReady' | 'onClosed'> & {
  /**
   * Cluster mode only: told when a device's connection becomes ready here, and when the device
   * has no connection here any more (not when a newer connection of it here replaced it).
   */
  readonly presence?: { ready(botName: string, deviceId: string): void; gone(botName: string, deviceId: string): void };
};

/**
 * The connection side of the bridge: the TCP listener, every live session (in handshake or
 * ready), queue backpressure applied to their sockets, and what approval and store-health
 * changes do to live connections.
 */
export class ConnectionManager {
  /** In accept order, except that a connection moves to the back each time resumeAll resumes it. */
  private readonly sessions = new Set<ClientSession>();
  private readonly listener: TcpListener;
  /** Reasons for which every ready connection holds reading paused (e.g. 'queue', 'store'). */
  private readonly heldReasons = new Set<string>();

  constructor(private readonly deps: ConnectionManagerOptions) {
    const { settings, counters, events, hooks, log } = deps;
    const sessionDeps: SessionDeps = {
      ...deps,
      onReady: (session) => {
        session.conn.markHandshaken();
        for (const reason of this.heldReasons) session.conn.pauseReading(reason);
        deps.presence?.ready(session.botName, session.deviceId);
      },
      onClosed: (session, wasReady, reason) => this.sessionClosed(session, wasReady, reason),
    };
    this.listener = new TcpListener({
      maxConnections: settings.limits.maxConnections,
      maxHandshaking: settings.limits.maxHandshakingConnections,
      maxHandshakingPerAddress: settings.limits.maxHandshakingPerAddress,
      maxWaiting: settings.limits.maxWaitingConnections,
      maxWaitMs: settings.limits.handshakeSlotWaitMs,
      connection: {
        lineLimit: settings.limits.maxHandshakeLineBytes,
        json: {
          maxDepth: settings.limits.maxJsonDepth,
          maxKeys: settings.limits.maxJsonKeys,
          maxArrayItems: settings.limits.maxJsonArrayItems,
          maxTokens: settings.limits.maxJsonTokens,
        },
        maxPendingOutputBytes: settings.limits.maxPendingOutputBytes,
        rate: {
          bytesPerSecond: settings.limits.maxBytesPerSecond,
          messagesPerSecond: settings.limits.maxMessagesPerSecond,
          burstSeconds: settings.limits.rateBurstSeconds,
          minByteBurst: settings.limits.maxLineBytes,
        },
        onThrottled: (kind) => counters.inc('connections_throttled', kind),
      },
      onConnection: (conn) => {
        // Issue 13: an address banned for failures, with no approved phone behind it, is refused unread.
        const ban = deps.auth.bans.refusesAtAccept(conn.remoteAddress, Date.now());
        if (ban !== undefined) {
          counters.inc('bans_refused', 'address');
          conn.close('BRIDGE_ERR_BANNED', formatMessage('BRIDGE_ERR_BANNED', banParams(ban)));
          return;
        }
        this.sessions.add(new ClientSession(conn, sessionDeps));
        events.publish('connection:open', { connectionId: conn.id, remoteAddress: conn.remoteAddress, remotePort: conn.remotePort, connectedAt: conn.connectedAt });
      },
      onRefused: ({ code, limit, remoteAddress }) => {
        events.publish('connection:refused', { remoteAddress, reason: REFUSAL_LABELS[code] });
        log.warn({ code, limit, remote: remoteAddress }, 'connection refused');
      },
      onError: (error) => log.error({ err: reasonOf(error) }, 'listener error'),
    });
  }

  /** Open connections, in handshake or ready. */
  get size(): number {
    return this.sessions.size;
  }

  /** Whether reading is held paused on every connection, for any reason (full queue, store behind). */
  get isSaturated(): boolean {
    return this.heldReasons.size > 0;
  }

  /** Whether reading is held paused on every connection for this reason. */
  isReadingHeld(reason: string): boolean {
    return this.heldReasons.has(reason);
  }

  /** One bot port; with a certificate a TLS one (issue 13), same caps and sessions as a plain one. */
  listen(host: string, port: number, certificate?: TlsCertificate): Promise<{ host: string; port: number }> {
    return this.listener.listen(host, port, certificate);
  }

  stopAccepting(): Promise<void> {
    return this.listener.stopAccepting();
  }

  /** Ready clients. */
  clients(): ClientInfo[] {
    const out: ClientInfo[] = [];
    for (const session of this.deps.registry.all()) out.push(session.info());
    return out;
  }

  /** A full queue pauses reading on every ready connection (no silent drop); draining resumes it. */
  setSaturated(saturated: boolean): void {
    if (saturated) this.pauseAll('queue');
    else this.resumeAll('queue');
  }

  /**
   * Holds reading paused on every ready connection (and on each one that becomes ready) until
   * `resumeAll(reason)`. Reasons are independent: a full queue ('queue') and a full write buffer
   * can both hold reads, and reading resumes only when neither does. Idempotent per reason.
   */
  pauseAll(reason: string): void {
    if (this.heldReasons.has(reason)) return;
    this.heldReasons.add(reason);
    for (const session of this.sessions) {
      if (session.isReady) session.conn.pauseReading(reason);
    }
  }

  /**
   * Releases `reason`, least recently resumed connection first. Resuming delivers a connection's
   * held lines synchronously, so it can refill the queue and pause everything again before the
   * loop is through: the loop then stops, and the connections it did not reach stay at the front
   * for the next resume. Over successive resumes every connection gets its turn.
   */
  resumeAll(reason: string): void {
    if (!this.heldReasons.delete(reason)) return;
    for (const session of [...this.sessions]) {
      if (this.heldReasons.has(reason)) return;
      if (!session.isReady) continue;
      session.conn.resumeReading(reason);
      if (this.sessions.delete(session)) this.sessions.add(session);
    }
  }

  /** An approval change of a device reaches its live connection: refused statuses disconnect it, approval replays its journal rows. */
  deviceChanged(botName: string, deviceId: string, status: string): void {
    const session = this.deps.registry.get(botName, deviceId);
    if (!session) return;
    this.deps.log.info({ botName, deviceId, status }, 'device approval changed');
    if (isRefusedStatus(status as never)) session.close('BRIDGE_ERR_DEVICE_REFUSED', `${botName}/${deviceId} is ${status}`);
    // journal: an approval granted while connected releases the device's rows a restart left.
    else if (status === 'approved' && session.isReady) this.deps.journalReplay?.admitBefore(session);
  }

  /** Registers connected devices the store has never seen (their handshake came during an outage). */
  registerUnknownDevices(): void {
    const { approvals, log } = this.deps;
    for (const session of this.deps.registry.all()) {
      if (approvals.deviceStatus(session.botName, session.deviceId) !== undefined) continue;
      const info = session.info();
      approvals
        .registerDevice({ botName: info.botName, deviceId: info.deviceId, ipAddress: info.remoteAddress, clientType: info.clientType, clientVersion: info.version })
        .catch((error: unknown) => log.warn({ botName: info.botName, deviceId: info.deviceId, err: reasonOf(error) }, 'device registration after recovery failed'));
    }
  }

  /** Waits (at most `timeoutMs`) until every connection's pending output is written. */
  async flush(timeoutMs: number): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.conn.flush(timeoutMs)));
  }

  /**
   * Shutdown (reading already held): closes each connection as soon as its own admitted messages
   * and replies are done, idle ones at once (see SessionDrain). Returns the drain so the reply
   * path can tell it when a device's last reply went out.
   */
  closeEachWhenDone(pendingReplies: (botName: string, deviceId: string) => number, flushMs: number): SessionDrain {
    const drain = new SessionDrain({ registry: this.deps.registry, pendingReplies, flushMs });
    drain.start(this.sessions);
    return drain;
  }

  closeAll(code: 'BRIDGE_ERR_SHUTDOWN'): void {
    for (const session of this.sessions) session.close(code);
  }

  private sessionClosed(session: ClientSession, wasReady: boolean, reason: string): void {
    const { events, registry, log } = this.deps;
    this.sessions.delete(session);
    // info() copies the client's state: built only for subscribers (closes come in bursts at shutdown).
    const client = wasReady && events.active('connection:close') ? session.info() : null;
    events.publish('connection:close', {
      connectionId: session.conn.id,
      botName: wasReady ? session.botName : null,
      deviceId: wasReady ? session.deviceId : null,
      reason,
      client,
    });
    if (!wasReady) return;
    registry.remove(session);
    if (this.deps.presence && registry.get(session.botName, session.deviceId) === undefined) this.deps.presence.gone(session.botName, session.deviceId);
    log.info({ botName: session.botName, deviceId: session.deviceId, reason }, 'client disconnected');
  }
}
