import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of the test MariaDB, to fake its faults without touching the
 * real server (other test files share it):
 * - `forward`: bytes pass, each chunk after `delayMs` (order kept per direction);
 * - `blackhole`: connections are accepted and bytes are swallowed both ways (a hung server, a
 *   dead network path: nothing answers, nothing closes);
 * - `refuse`: every new connection is reset at once (the server process is down);
 * - `dropAll()`: every open connection is cut (the server restarted);
 * - `onClientBytes`: sees what botbridge sends the server (e.g. to count its statements).
 */
export type ProxyMode = 'forward' | 'blackhole' | 'refuse';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class TcpProxy {
  private mode: ProxyMode = 'forward';
  private delay = 0;
  private readonly pairs = new Set<Pair>();
  private accepted = 0;
  private readonly clientBytes = new Set<(chunk: Buffer) => void>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** Connections accepted so far (in any mode). */
  get connections(): number {
    return this.accepted;
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
  }

  setDelay(ms: number): void {
    this.delay = ms;
  }

  /** Calls `listener` with every chunk a client sends towards the server. */
  onClientBytes(listener: (chunk: Buffer) => void): void {
    this.clientBytes.add(listener);
  }

  dropAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** `mysql://root@127.0.0.1:<proxy port>/<database>` for a URL of the real server. */
  urlFor(realUrl: string): string {
    const url = new URL(realUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    this.accepted += 1;
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host, port });
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('data', (chunk: Buffer) => {
      for (const listener of this.clientBytes) listener(chunk);
    });
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /** Forwards chunks in order; a delayed chunk never overtakes an earlier one. */
  private pipe(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') return;
      const delay = this.delay;
      chain = chain.then(async () => {
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (this.mode !== 'blackhole' && !to.destroyed) to.write(chunk);
      });
    });
  }
}
