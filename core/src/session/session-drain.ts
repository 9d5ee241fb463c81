import type { ClientSession } from './client-session.js';
import type { SessionRegistry } from './session-registry.js';

export interface SessionDrainDeps {
  readonly registry: SessionRegistry;
  /** Replies addressed to this device not yet handed to its socket (ReplyPath.watchDevices). */
  readonly pendingReplies: (botName: string, deviceId: string) => number;
  /** How long a finished connection's written output may take to reach the kernel before it is closed anyway. */
  readonly flushMs: number;
}

/**
 * Shutdown, per connection: reading is held (the 'shutdown' hold), and each connection is closed
 * (`BRIDGE_ERR_SHUTDOWN`) as soon as its own work is done: none of its admitted messages is
 * still in the dispatcher, none of its device's replies is still on its way, and its socket's
 * output was flushed. A connection with no work closes at once. Closing early is what saves
 * lines: the phone sees EOF and keeps what it produces next in its own offline queue for the
 * restarted server, instead of writing it into a socket nobody reads. Connections whose work
 * outlasts the drain bound are closed by the bridge afterwards (ConnectionManager.closeAll).
 */
export class SessionDrain {
  /** Sessions whose flush-then-close has begun. */
  private readonly closing = new Set<ClientSession>();

  constructor(private readonly deps: SessionDrainDeps) {}

  /** Watches each session and closes those that have nothing left at once. */
  start(sessions: Iterable<ClientSession>): void {
    for (const session of [...sessions]) {
      session.whenNoJobs(() => this.check(session));
      this.check(session);
    }
  }

  /** A device's last pending reply was handed to outbound. */
  deviceClear(botName: string, deviceId: string): void {
    const session = this.deps.registry.get(botName, deviceId);
    if (session !== undefined) this.check(session);
  }

  private busy(session: ClientSession): boolean {
    // A connection still in its handshake has admitted nothing: it closes like an idle one.
    if (!session.isReady) return false;
    return session.admittedInPipeline > 0 || this.deps.pendingReplies(session.botName, session.deviceId) > 0;
  }

  private check(session: ClientSession): void {
    if (session.conn.isClosing || this.closing.has(session) || this.busy(session)) return;
    this.closing.add(session);
    void session.conn.flush(this.deps.flushMs).then(() => {
      this.closing.delete(session);
      // A proactive send may have given it a reply meanwhile: its delivery checks again.
      if (!this.busy(session)) session.close('BRIDGE_ERR_SHUTDOWN');
    });
  }
}
