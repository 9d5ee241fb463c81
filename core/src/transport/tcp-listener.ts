import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { reasonOf } from '../errors.js';
import { Connection, type ConnectionObserver, type ConnectionOptions } from './connection.js';

export type RefusalCode = 'BRIDGE_ERR_CONNECTION_LIMIT' | 'BRIDGE_ERR_HANDSHAKE_LIMIT';

export interface RefusedConnection {
  readonly code: RefusalCode;
  readonly limit: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

export interface TcpListenerOptions {
  /** Every open connection, handshaken or not (limits.maxConnections). */
  readonly maxConnections: number;
  /** Connections not yet marked handshaken (limits.maxHandshakingConnections). */
  readonly maxHandshaking: number;
  readonly connection: ConnectionOptions;
  /**
   * Called synchronously for each accepted connection. The callee calls `conn.start(handlers)`
   * (nothing is read before that) and `conn.markHandshaken()` once the handshake passed.
   */
  readonly onConnection: (conn: Connection) => void;
  /** A connection over a cap was destroyed at accept (already counted in stats()). */
  readonly onRefused?: (refused: RefusedConnection) => void;
  /** Server errors after listen() resolved, e.g. EMFILE on accept. */
  readonly onError?: (error: Error) => void;
}

export interface ListenerStats {
  readonly open: number;
  readonly handshaking: number;
  readonly accepted: number;
  readonly refusedConnectionLimit: number;
  readonly refusedHandshakeLimit: number;
}

/**
 * Accepts TCP connections under two caps. The caps are enforced here rather than with
 * `server.maxConnections` so every refusal is counted and reported with its reason. Sockets are
 * accepted with pauseOnConnect: a refused one is destroyed before a byte of it is read.
 */
export class TcpListener {
  private readonly options: TcpListenerOptions;
  private readonly server: Server;
  private readonly live = new Set<Connection>();
  private readonly observer: ConnectionObserver;
  private handshaking = 0;
  private accepted = 0;
  private refusedConnectionLimit = 0;
  private refusedHandshakeLimit = 0;

  constructor(options: TcpListenerOptions) {
    this.options = options;
    this.observer = {
      handshaken: (conn) => {
        if (this.live.has(conn)) this.handshaking -= 1;
      },
      closed: (conn) => {
        if (!this.live.delete(conn)) return;
        if (!conn.isHandshaken) this.handshaking -= 1;
      },
    };
    this.server = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    // An 'error' without a listener would crash the process (accept can fail with EMFILE).
    this.server.on('error', (error) => {
      if (!this.server.listening) return;
      if (this.options.onError) this.options.onError(error);
      else process.emitWarning(`tcp listener error: ${reasonOf(error)}`);
    });
  }

  /** Resolves with the bound address (port 0 picks a free port). */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onListenError = (error: Error) => reject(error);
      this.server.once('error', onListenError);
      this.server.listen(port, host, () => {
        this.server.off('error', onListenError);
        const address = this.server.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Closes the listening socket; live connections are untouched (phased shutdown closes them). */
  stopAccepting(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    // server.close()'s callback waits for every connection to end, so it is not awaited: the
    // listening handle itself is closed synchronously.
    this.server.close();
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Live connections (accepted and not yet closed), in accept order. */
  connections(): IterableIterator<Connection> {
    return this.live.values();
  }

  stats(): ListenerStats {
    return {
      open: this.live.size,
      handshaking: this.handshaking,
      accepted: this.accepted,
      refusedConnectionLimit: this.refusedConnectionLimit,
      refusedHandshakeLimit: this.refusedHandshakeLimit,
    };
  }

  private accept(socket: Socket): void {
    const { maxConnections, maxHandshaking } = this.options;
    if (this.live.size >= maxConnections) {
      this.refusedConnectionLimit += 1;
      this.refuse(socket, 'BRIDGE_ERR_CONNECTION_LIMIT', maxConnections);
      return;
    }
    if (this.handshaking >= maxHandshaking) {
      this.refusedHandshakeLimit += 1;
      this.refuse(socket, 'BRIDGE_ERR_HANDSHAKE_LIMIT', maxHandshaking);
      return;
    }
    const conn = new Connection(socket, this.options.connection, this.observer);
    this.live.add(conn);
    this.handshaking += 1;
    this.accepted += 1;
    try {
      this.options.onConnection(conn);
    } catch (error) {
      conn.close('handler-error', reasonOf(error));
    }
  }

  private refuse(socket: Socket, code: RefusalCode, limit: number): void {
    const refused = { code, limit, remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 };
    // Errors of a socket we are already destroying carry no information; unhandled they would crash.
    socket.on('error', () => {});
    socket.destroy();
    this.options.onRefused?.(refused);
  }
}
