import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Connection, CloseReason, ConnectionOptions } from '../../src/transport/connection.js';
import { TcpListener, type RefusedConnection } from '../../src/transport/tcp-listener.js';

export const HANDSHAKE_LIMIT = 16 * 1024;

export const defaultConnectionOptions: ConnectionOptions = {
  lineLimit: HANDSHAKE_LIMIT,
  json: { maxDepth: 16, maxKeys: 2000 },
  maxPendingOutputBytes: 8 * 1024 * 1024,
  closeGraceMs: 2_000,
};

/** What the server side saw of one connection. */
export interface Seen {
  readonly conn: Connection;
  readonly packets: unknown[];
  readonly badLines: { code: string; reason: string }[];
  /** Resolves with the onClose arguments; `closeCalls` counts onClose invocations. */
  readonly closed: Promise<{ reason: CloseReason; detail: string | undefined }>;
  closeCalls: number;
}

export interface Harness {
  readonly listener: TcpListener;
  readonly port: number;
  readonly refused: RefusedConnection[];
  /** Server-side view of the n-th accepted connection (0-based), once accepted. */
  accepted(n: number): Promise<Seen>;
  /** A raw client socket, connected (from `localAddress`, default 127.0.0.1). */
  client(localAddress?: string): Promise<Socket>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly maxConnections?: number;
  readonly maxHandshaking?: number;
  readonly maxHandshakingPerAddress?: number;
  readonly maxWaiting?: number;
  readonly maxWaitMs?: number;
  readonly connection?: Partial<ConnectionOptions>;
  /** Replaces the default handler that records packets. */
  readonly onPacket?: (seen: Seen, value: unknown) => void;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const seen: Seen[] = [];
  const waiters = new Map<number, (s: Seen) => void>();
  const clients: Socket[] = [];
  const refused: RefusedConnection[] = [];
  const listener = new TcpListener({
    maxConnections: options.maxConnections ?? 100,
    maxHandshaking: options.maxHandshaking ?? 20,
    ...(options.maxHandshakingPerAddress !== undefined && { maxHandshakingPerAddress: options.maxHandshakingPerAddress }),
    ...(options.maxWaiting !== undefined && { maxWaiting: options.maxWaiting }),
    ...(options.maxWaitMs !== undefined && { maxWaitMs: options.maxWaitMs }),
    connection: { ...defaultConnectionOptions, ...options.connection },
    onRefused: (r) => refused.push(r),
    onConnection: (conn) => {
      let resolveClosed!: (v: { reason: CloseReason; detail: string | undefined }) => void;
      const entry: Seen = {
        conn,
        packets: [],
        badLines: [],
        closed: new Promise((resolve) => (resolveClosed = resolve)),
        closeCalls: 0,
      };
      conn.start({
        onPacket: (value) => (options.onPacket ? options.onPacket(entry, value) : entry.packets.push(value)),
        onBadLine: (code, reason) => entry.badLines.push({ code, reason }),
        onClose: (reason, detail) => {
          entry.closeCalls += 1;
          resolveClosed({ reason, detail });
        },
      });
      seen.push(entry);
      waiters.get(seen.length - 1)?.(entry);
    },
  });
  const { port } = await listener.listen('127.0.0.1', 0);
  return {
    listener,
    port,
    refused,
    accepted(n) {
      if (seen[n]) return Promise.resolve(seen[n]);
      return new Promise((resolve) => waiters.set(n, resolve));
    },
    async client(localAddress) {
      const socket = connect({ port, host: '127.0.0.1', ...(localAddress !== undefined && { localAddress }) });
      socket.on('error', () => {});
      clients.push(socket);
      await once(socket, 'connect');
      return socket;
    },
    async close() {
      for (const socket of clients) socket.destroy();
      await listener.stopAccepting();
      for (const conn of listener.connections()) conn.close('test-teardown');
      await Promise.all(seen.map((s) => s.closed));
    },
  };
}

/** Resolves when the client socket has fully closed; reports whether it saw EOF or an error. */
export function clientClosed(socket: Socket): Promise<{ data: Buffer; ended: boolean; error: string | null }> {
  const chunks: Buffer[] = [];
  let ended = false;
  let error: string | null = null;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('end', () => (ended = true));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  return new Promise((resolve) => {
    if (socket.destroyed) resolve({ data: Buffer.concat(chunks), ended, error });
    socket.once('close', () => resolve({ data: Buffer.concat(chunks), ended, error }));
  });
}

/** Polls a condition across event-loop turns (bounded by the test timeout). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

export function line(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
