import type { BridgeSettings } from '@botbridge/sdk';
import { DEFAULT_SECRET_KEY } from '@botbridge/sdk/internal';
import type { CoreLogger } from '../logger.js';
import { TlsCertificate } from '../transport/tls-context.js';
import type { AuthGuard } from './auth-guard.js';
import type { ConnectionManager } from './connection-manager.js';
import { SecretsFileWatcher } from './secrets-file.js';

/**
 * The bot port's security parts that have a lifecycle (issue 13): the live secrets file and the
 * TLS port with its hot-reloaded certificate. Started by the bridge before and after the plain
 * listener opens; stopped with the bridge's other parts.
 */
export class SecurityServices {
  private secretsWatcher: SecretsFileWatcher | null = null;
  private readonly certificates: TlsCertificate[] = [];
  private readonly bound: Array<{ host: string; port: number; tls: boolean }> = [];

  constructor(
    private readonly settings: BridgeSettings,
    private readonly auth: AuthGuard,
    private readonly log: CoreLogger,
  ) {}

  /** Loads auth.secretsFile (an invalid one refuses the start) and says when the public key is in use. */
  async startSecrets(): Promise<void> {
    const { secretsFile, secretsReloadMs } = this.settings.auth;
    if (secretsFile !== undefined) {
      this.secretsWatcher = new SecretsFileWatcher(secretsFile, this.auth.keyring, secretsReloadMs, this.log);
      await this.secretsWatcher.start();
    }
    if (this.auth.keyring.allKeys().includes(DEFAULT_SECRET_KEY)) {
      this.log.warn('auth uses the secret key built into the deployed scripts: it is public, anyone can sign packets (docs/security.md)');
    }
  }

  /** A reload's config secrets (validated: ≥ 16 bytes); the secrets file's overlay keeps precedence. */
  applySecrets(auth: BridgeSettings['auth']): void {
    if (!this.auth.keyring.setConfig(auth)) return;
    this.log.info('signing secrets of the config reloaded');
    if (this.auth.keyring.allKeys().includes(DEFAULT_SECRET_KEY)) {
      this.log.warn('auth uses the secret key built into the deployed scripts: it is public, anyone can sign packets (docs/security.md)');
    }
  }

  /**
   * Opens every bot port (`listeners`, or listen.port plus the listen.tls shorthand), plain or
   * TLS, and resolves with their bound addresses in order; certificates are loaded first (a pair
   * that cannot be loaded refuses the start).
   */
  async startListeners(connections: ConnectionManager): Promise<Array<{ host: string; port: number; tls: boolean }>> {
    for (const spec of listenerSpecs(this.settings)) {
      let certificate: TlsCertificate | undefined;
      if (spec.tls !== undefined) {
        const files = spec.tls;
        certificate = new TlsCertificate(
          files,
          (reason) => this.log.error({ cert: files.cert, err: reason }, 'TLS certificate not reloaded; keeping the previous one'),
          () => this.log.info({ cert: files.cert }, 'TLS certificate reloaded'),
        );
        await certificate.start(files.reloadMs);
        this.certificates.push(certificate);
      }
      const bound = await connections.listen(spec.host, spec.port, certificate);
      this.bound.push({ ...bound, tls: certificate !== undefined });
      if (certificate !== undefined) this.log.info({ ...bound }, 'TLS listener open');
    }
    return this.bound;
  }

  /**
   * `botbridge reload` / SIGHUP: re-reads every TLS certificate pair (new connections get the new
   * one; live ones keep theirs; a pair that fails to load keeps the previous) and the secrets
   * file, at once rather than at their next poll. Resolves with what was reloaded.
   */
  async reloadFiles(): Promise<{ certificates: number; secretsFile: boolean }> {
    let certificates = 0;
    for (const certificate of this.certificates) if (await certificate.reload()) certificates += 1;
    const secretsFile = (await this.secretsWatcher?.check()) ?? false;
    return { certificates, secretsFile };
  }

  /** Every bound bot port, in listener order. */
  get addresses(): ReadonlyArray<{ host: string; port: number; tls: boolean }> {
    return this.bound;
  }

  /** The first TLS port, or null. */
  get tlsAddress(): { host: string; port: number } | null {
    const first = this.bound.find((address) => address.tls);
    return first === undefined ? null : { host: first.host, port: first.port };
  }

  stop(): void {
    this.secretsWatcher?.stop();
    for (const certificate of this.certificates) certificate.stop();
  }
}

export interface ListenerSpec {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly cert: string; readonly key: string; readonly reloadMs: number };
}

/** The bot ports to open: `listeners` as given, else listen.port and, when set, the listen.tls shorthand. */
export function listenerSpecs(settings: BridgeSettings): ListenerSpec[] {
  const { host, port, tls } = settings.listen;
  if (settings.listeners !== undefined) {
    return settings.listeners.map((entry) => ({ host: entry.host ?? host, port: entry.port, ...(entry.tls ? { tls: entry.tls } : {}) }));
  }
  const specs: ListenerSpec[] = [{ host, port }];
  if (tls !== undefined) specs.push({ host: tls.host ?? host, port: tls.port, tls: { cert: tls.cert, key: tls.key, reloadMs: tls.reloadMs } });
  return specs;
}
