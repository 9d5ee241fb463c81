import { connect as tcpConnect } from 'node:net';

/**
 * Whether a TCP service answers at `url`'s host and port (`fallbackPort` when the URL has none)
 * within a second: how test suites and benches decide to skip when NATS or MariaDB is absent.
 */
export function tcpReachable(url: string, fallbackPort: number): Promise<boolean> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: target.hostname, port: Number(target.port || fallbackPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
