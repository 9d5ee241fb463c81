import { readFile, stat } from 'node:fs/promises';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import { reasonOf } from '../errors.js';

export interface TlsFiles {
  /** PEM certificate chain file. */
  readonly cert: string;
  /** PEM private key file. */
  readonly key: string;
}

/**
 * A TLS listener's certificate (issue 13, finding 8), hot-reloadable: the files are polled
 * (mtime and size), and re-read on `botbridge reload`, and a new context serves every connection accepted after the change; live
 * connections keep the one they were accepted with. A pair that fails to load keeps the previous
 * context (logged), so a half-copied renewal never takes the port down.
 */
export class TlsCertificate {
  private context: SecureContext | null = null;
  private stamp = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: TlsFiles,
    private readonly onReloadError: (reason: string) => void,
    private readonly onReloaded: () => void = () => {},
  ) {}

  /** Loads the pair (throws when it cannot: the bridge refuses to start) and polls every `reloadMs`. */
  async start(reloadMs: number): Promise<void> {
    await this.load();
    this.timer = setInterval(() => void this.check(), reloadMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reloads if either file changed; resolves true when a new context is in use. */
  async check(): Promise<boolean> {
    try {
      if ((await this.stampOf()) === this.stamp) return false;
    } catch (error) {
      this.onReloadError(reasonOf(error));
      return false;
    }
    return this.reload();
  }

  /** Loads the pair now, changed or not (`botbridge reload`); resolves true when a new context is in use. */
  async reload(): Promise<boolean> {
    try {
      await this.load();
      this.onReloaded();
      return true;
    } catch (error) {
      this.onReloadError(reasonOf(error));
      return false;
    }
  }

  /** Wraps an accepted (still unread) socket as the server side of a TLS session. */
  wrap(socket: Socket): TLSSocket {
    if (this.context === null) throw new Error('TLS certificate not loaded');
    return new TLSSocket(socket, { isServer: true, secureContext: this.context });
  }

  private async load(): Promise<void> {
    const stamp = await this.stampOf();
    const [cert, key] = await Promise.all([readFile(this.files.cert), readFile(this.files.key)]);
    this.context = createSecureContext({ cert, key });
    this.stamp = stamp;
  }

  private async stampOf(): Promise<string> {
    const [c, k] = await Promise.all([stat(this.files.cert), stat(this.files.key)]);
    return `${c.mtimeMs}:${c.size}:${k.mtimeMs}:${k.size}`;
  }
}
