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
  private certificate: TlsCertificate | null = null;
  private tlsBound: { host: string; port: number } | null = null;

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

  /** Opens the TLS port (listen.tls) when configured. */
  async startTls(connections: ConnectionManager): Promise<void> {
    const tls = this.settings.listen.tls;
    if (tls === undefined) return;
    this.certificate = new TlsCertificate(
      tls,
      (reason) => this.log.error({ cert: tls.cert, err: reason }, 'TLS certificate not reloaded; keeping the previous one'),
      () => this.log.info({ cert: tls.cert }, 'TLS certificate reloaded'),
    );
    await this.certificate.start(tls.reloadMs);
    this.tlsBound = await connections.listenTls(tls.host ?? this.settings.listen.host, tls.port, this.certificate);
    this.log.info({ ...this.tlsBound }, 'TLS listener open');
  }

  get tlsAddress(): { host: string; port: number } | null {
    return this.tlsBound;
  }

  stop(): void {
    this.secretsWatcher?.stop();
    this.certificate?.stop();
  }
}
