import { connect as netConnect, type Socket } from 'node:net';

/** One entry of the phone's server list (the script's `SERVER_LIST`, priority order). */
export interface ServerAddress {
  readonly host?: string;
  readonly port: number;
}

/** The script's reconnect waits: 4, 8, 16, 32 s, then every 60 s (docs/protocol.md, reconnects). */
export const SCRIPT_RECONNECT_DELAYS_MS: readonly number[] = [4_000, 8_000, 16_000, 32_000, 60_000];

const CONNECT_TIMEOUT_MS = 5_000;

/** Opens a TCP connection within the script's 5 s connect timeout. */
export function connectSocket(host: string, port: number, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`FakeBridgeClient: no TCP connection to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`FakeBridgeClient: cannot connect to ${host}:${port}: ${error.message}`, { cause: error }));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/**
 * How the script finds a server after a failure: it waits its reconnect delay (4, 8, 16, 32 s,
 * then 60 s; the count resets on every successful TCP connect), then walks its server list in
 * priority order starting from the server that worked last, and stays on the first that
 * accepts. A refused connect on loopback fails at once, so a dead node costs the walk nothing
 * beyond the delay.
 */
export class ServerWalk {
  #current = 0;
  #failures = 0;

  constructor(
    readonly servers: readonly ServerAddress[],
    private readonly delaysMs: readonly number[],
  ) {
    if (servers.length === 0) throw new Error('FakeBridgeClient: the server list is empty');
  }

  get current(): ServerAddress {
    return this.servers[this.#current]!;
  }

  /** The wait before the next attempt. */
  nextDelayMs(): number {
    const delays = this.delaysMs.length === 0 ? SCRIPT_RECONNECT_DELAYS_MS : this.delaysMs;
    return delays[Math.min(this.#failures, delays.length - 1)]!;
  }

  /** One attempt: every server once, from the current one on; the first that accepts becomes current. */
  async connect(): Promise<Socket> {
    let lastError: unknown;
    for (let i = 0; i < this.servers.length; i += 1) {
      const index = (this.#current + i) % this.servers.length;
      const server = this.servers[index]!;
      try {
        const socket = await connectSocket(server.host ?? '127.0.0.1', server.port);
        this.#current = index;
        this.#failures = 0;
        return socket;
      } catch (error) {
        lastError = error;
      }
    }
    this.#failures += 1;
    throw lastError;
  }
}
