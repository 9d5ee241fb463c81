import { createServer, type Server, type Socket } from 'node:net';

/**
 * A bare TCP server for testing the fake client: it records the exact bytes the client writes
 * and lets the test write arbitrary bytes back. No protocol logic, so it cannot agree with the
 * client by accident.
 */

export class RawPeer {
  readonly socket: Socket;
  #bytes = Buffer.alloc(0);
  #ended = false;
  readonly #listeners = new Set<() => void>();

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#bytes = Buffer.concat([this.#bytes, chunk]);
      this.#notify();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on('error', () => {});
  }

  /** Everything received so far. */
  get bytes(): Buffer {
    return this.#bytes;
  }

  /** Complete `\n`-terminated lines received so far (terminator kept off). */
  get lines(): string[] {
    const text = this.#bytes.toString('utf8');
    const parts = text.split('\n');
    parts.pop();
    return parts;
  }

  /** Resolves with line `index` (0-based) once it is complete. */
  line(index: number, timeoutMs = 2_000): Promise<string> {
    return this.until(`line #${index}`, timeoutMs, () => this.lines[index]);
  }

  /** Resolves when the client sent EOF. */
  ended(timeoutMs = 2_000): Promise<true> {
    return this.until('EOF', timeoutMs, () => (this.#ended ? true : undefined));
  }

  send(packet: unknown): void {
    this.socket.write(`${JSON.stringify(packet)}\n`);
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`raw server: no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.#bytes.toString('utf8').slice(0, 300))}`));
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

export class RawLineServer {
  readonly #server: Server;
  readonly #peers: RawPeer[] = [];
  readonly #waiting: ((peer: RawPeer) => void)[] = [];

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket) => {
      const peer = new RawPeer(socket);
      this.#peers.push(peer);
      const waiter = this.#waiting.shift();
      if (waiter) waiter(peer);
    });
  }

  static async start(): Promise<RawLineServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new RawLineServer(server);
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** The n-th accepted connection (0-based), once accepted. */
  peer(index = 0, timeoutMs = 2_000): Promise<RawPeer> {
    const existing = this.#peers[index];
    if (existing) return Promise.resolve(existing);
    if (index !== this.#peers.length + this.#waiting.length) throw new Error('ask for peers in order');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw server: no connection #${index} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiting.push((peer) => {
        clearTimeout(timer);
        resolve(peer);
      });
    });
  }

  async close(): Promise<void> {
    for (const peer of this.#peers) peer.socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
