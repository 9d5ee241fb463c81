import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { BridgeError, reasonOf } from '../errors.js';
import { Connection, type ConnectionObserver, type ConnectionOptions } from './connection.js';
import { HandshakeSlots } from './handshake-slots.js';
import type { TlsCertificate } from './tls-context.js';

export type RefusalCode = 'BRIDGE_ERR_CONNECTION_LIMIT' | 'BRIDGE_ERR_HANDSHAKE_LIMIT' | 'BRIDGE_ERR_ADDRESS_HANDSHAKE_LIMIT';

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
  /** Handshake slots one remote address may hold (limits.maxHandshakingPerAddress). Default: maxHandshaking. */
  readonly maxHandshakingPerAddress?: number;
  /** Sockets that may wait for a handshake slot (limits.maxWaitingConnections). Default 0: refuse at once. */
  readonly maxWaiting?: number;
  /** How long one waits before it is refused (limits.handshakeSlotWaitMs). Default 5000. */
  readonly maxWaitMs?: number;
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
  /** Accepted sockets waiting for a handshake slot (nothing read from them yet). */
  readonly waiting: number;
  readonly accepted: number;
  readonly refusedConnectionLimit: number;
  /** Refused because the line was full or the wait expired. */
  readonly refusedHandshakeLimit: number;
  /** Refused because their address already held its share of the line. */
  readonly refusedAddressLimit: number;
}

/**
 * Accepts TCP connections under two caps. The caps are enforced here rather than with
 * `server.maxConnections` so every refusal is counted and reported with its reason. Sockets are
 * accepted with pauseOnConnect: a refused one is destroyed before a byte of it is read. A socket
 * that finds every handshake slot taken waits for one, unread (handshake-slots.ts); waiting
 * sockets count towards maxConnections.
 */
export class TcpListener {
  private readonly options: TcpListenerOptions;
  /** Every bound port (listen.port, listeners[]): plain or TLS, sharing every cap and the pipeline. */
  private readonly servers: Server[] = [];
  private readonly tlsSockets = new WeakMap<Socket, TlsCertificate>();
  /** Live connections with the address their handshake slot was taken for (read at accept). */
  private readonly live = new Map<Connection, string>();
  private readonly observer: ConnectionObserver;
  private readonly slots: HandshakeSlots;
  private accepted = 0;
  private refusedConnectionLimit = 0;
  private refusedHandshakeLimit = 0;
  private refusedAddressLimit = 0;

  constructor(options: TcpListenerOptions) {
    this.options = options;
    this.slots = new HandshakeSlots({
      maxHandshaking: options.maxHandshaking,
      maxPerAddress: options.maxHandshakingPerAddress ?? options.maxHandshaking,
      maxWaiting: options.maxWaiting ?? 0,
      maxWaitMs: options.maxWaitMs ?? 5_000,
      admit: (socket, address) => this.open(socket, address),
      expire: (socket) => {
        this.refusedHandshakeLimit += 1;
        this.refuse(socket, 'BRIDGE_ERR_HANDSHAKE_LIMIT', options.maxHandshaking);
      },
    });
    this.observer = {
      handshaken: (conn) => {
        const address = this.live.get(conn);
        if (address !== undefined) this.slots.release(address);
      },
      closed: (conn) => {
        const address = this.live.get(conn);
        if (address === undefined) return;
        this.live.delete(conn);
        if (!conn.isHandshaken) this.slots.release(address);
      },
    };
  }

  /**
   * Opens one port and resolves with its bound address (port 0 picks a free port); call it once
   * per listener. With a certificate the port speaks TLS: its sockets go through the same caps
   * and waiting line unread (the TLS handshake costs nothing before a slot is granted) and are
   * wrapped when they become connections, so framing, JSON guards and sessions see plaintext. A
   * failed bind rejects with BRIDGE_ERR_LISTEN naming the address and what to do.
   */
  listen(host: string, port: number, certificate?: TlsCertificate): Promise<{ host: string; port: number }> {
    const server = createServer({ pauseOnConnect: true }, (socket) => {
      if (certificate !== undefined) this.tlsSockets.set(socket, certificate);
      this.accept(socket);
    });
    this.servers.push(server);
    // An 'error' without a listener would crash the process (accept can fail with EMFILE).
    server.on('error', (error) => {
      if (!server.listening) return;
      if (this.options.onError) this.options.onError(error);
      else process.emitWarning(`${certificate === undefined ? 'tcp' : 'tls'} listener error: ${reasonOf(error)}`);
    });
    return new Promise((resolve, reject) => {
      const onListenError = (error: Error) => reject(listenError(host, port, error));
      server.once('error', onListenError);
      server.listen(port, host, () => {
        server.off('error', onListenError);
        const address = server.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  get listening(): boolean {
    return this.servers.some((server) => server.listening);
  }

  /** Closes the listening socket; live connections are untouched (phased shutdown closes them). */
  stopAccepting(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    // server.close()'s callback waits for every connection to end, so it is not awaited: the
    // listening handle itself is closed synchronously.
    for (const server of this.servers) if (server.listening) server.close();
    // Waiting sockets were never read: no slot will be worth waiting for any more.
    for (const socket of this.slots.drain()) this.refuse(socket, 'BRIDGE_ERR_HANDSHAKE_LIMIT', this.options.maxHandshaking);
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Live connections (accepted and not yet closed), in accept order. */
  connections(): IterableIterator<Connection> {
    return this.live.keys();
  }

  stats(): ListenerStats {
    return {
      open: this.live.size,
      handshaking: this.slots.handshaking,
      waiting: this.slots.waiting,
      accepted: this.accepted,
      refusedConnectionLimit: this.refusedConnectionLimit,
      refusedHandshakeLimit: this.refusedHandshakeLimit,
      refusedAddressLimit: this.refusedAddressLimit,
    };
  }

  private accept(socket: Socket): void {
    const { maxConnections, maxHandshaking } = this.options;
    if (this.live.size + this.slots.waiting >= maxConnections) {
      this.refusedConnectionLimit += 1;
      this.refuse(socket, 'BRIDGE_ERR_CONNECTION_LIMIT', maxConnections);
      return;
    }
    const address = socket.remoteAddress ?? '';
    switch (this.slots.request(socket, address)) {
      case 'slot':
        this.open(socket, address);
        return;
      case 'waiting':
        return;
      case 'refused-address':
        this.refusedAddressLimit += 1;
        this.refuse(socket, 'BRIDGE_ERR_ADDRESS_HANDSHAKE_LIMIT', this.options.maxHandshakingPerAddress ?? maxHandshaking);
        return;
      case 'refused-full':
        this.refusedHandshakeLimit += 1;
        this.refuse(socket, 'BRIDGE_ERR_HANDSHAKE_LIMIT', maxHandshaking);
        return;
    }
  }

  /** A socket holding a handshake slot becomes a connection. */
  private open(socket: Socket, address: string): void {
    const certificate = this.tlsSockets.get(socket);
    const stream = certificate === undefined ? socket : certificate.wrap(socket);
    const conn = new Connection(stream, this.options.connection, this.observer);
    this.live.set(conn, address);
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

/** What an operator can do about each way a bind fails. */
const LISTEN_HINTS: Record<string, string> = {
  EADDRINUSE: 'another process (maybe another botbridge) holds this port; stop it, or choose another port with --port or listen.port',
  EACCES: 'ports below 1024 need privileges; choose a port of 1024 or more with --port or listen.port',
  EADDRNOTAVAIL: 'this machine has no such address; set listen.host to one of its addresses, or 0.0.0.0',
};

function listenError(host: string, port: number, error: Error): BridgeError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const hint = LISTEN_HINTS[code] ?? 'check listen.host and listen.port';
  return new BridgeError('BRIDGE_ERR_LISTEN', { host, port, reason: code || reasonOf(error), hint }, { cause: error });
}
