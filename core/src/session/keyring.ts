import { isDeepStrictEqual } from 'node:util';
import type { BridgeSettings } from '@botbridge/sdk';
import { SignatureMemo, type SigningSecret } from '../protocol/hmac.js';

/** One configured secret after validation (times in epoch ms). */
export interface SecretEntry {
  readonly key: string;
  readonly salt?: string | undefined;
  readonly validFrom?: number | undefined;
  readonly validUntil?: number | undefined;
}

/** What a secrets file (auth.secretsFile) may carry: the same shapes as the config's auth section. */
export interface SecretsOverlay {
  readonly secrets?: readonly SecretEntry[] | undefined;
  readonly bots?: Readonly<Record<string, { readonly secrets: readonly SecretEntry[] }>> | undefined;
}

/**
 * The secrets each bot's packets may be signed with, now. A bot's own entries (auth.bots) win
 * over the global ones; a list of secrets with validity windows replaces the single secretKey, so
 * a fleet moves to a new key with both accepted during the overlap (issue 13, finding 6). The
 * overlay of auth.secretsFile replaces the config's list for each section it names and can be
 * swapped at run time. Key material never leaves this class except to the HMAC.
 */
export class Keyring {
  private overlay: SecretsOverlay = {};
  /** Expected signatures of recent blocks (protocol/hmac.ts); emptied whenever the secrets change. */
  readonly signatures = new SignatureMemo();

  constructor(private auth: BridgeSettings['auth']) {}

  /**
   * Swaps the config's secrets (`botbridge reload` of a config whose auth.secretKey, salt,
   * secrets or bots changed; already validated). The overlay of the secrets file stays.
   */
  setConfig(auth: BridgeSettings['auth']): boolean {
    const changed = !isDeepStrictEqual(pickSecrets(this.auth), pickSecrets(auth));
    this.auth = auth;
    if (changed) this.signatures.clear();
    return changed;
  }

  /** Swaps the secrets-file overlay (already validated). */
  setOverlay(overlay: SecretsOverlay): void {
    this.overlay = overlay;
    this.signatures.clear();
  }

  secretsFor(botName: string, nowMs: number): SigningSecret[] {
    const perBot = Object.hasOwn(this.auth.bots, botName) ? this.auth.bots[botName] : undefined;
    const salt = perBot?.salt ?? this.auth.salt;
    const overlaid = this.overlay.bots !== undefined && Object.hasOwn(this.overlay.bots, botName) ? this.overlay.bots[botName]!.secrets : undefined;
    const list =
      overlaid ??
      perBot?.secrets ??
      (perBot?.secretKey !== undefined ? [{ key: perBot.secretKey }] : undefined) ??
      this.overlay.secrets ??
      (this.auth.secrets.length > 0 ? this.auth.secrets : [{ key: this.auth.secretKey }]);
    const valid: SigningSecret[] = [];
    for (const entry of list) {
      if (entry.validFrom !== undefined && nowMs < entry.validFrom) continue;
      if (entry.validUntil !== undefined && nowMs >= entry.validUntil) continue;
      valid.push({ secretKey: entry.key, salt: entry.salt ?? salt });
    }
    return valid;
  }

  /** Every key in use (config and overlay), for the start-up checks and the leak tests. */
  allKeys(): string[] {
    const keys = [this.auth.secretKey, ...this.auth.secrets.map((s) => s.key)];
    for (const bot of Object.values(this.auth.bots)) {
      if (bot.secretKey !== undefined) keys.push(bot.secretKey);
      for (const s of bot.secrets ?? []) keys.push(s.key);
    }
    for (const s of this.overlay.secrets ?? []) keys.push(s.key);
    for (const bot of Object.values(this.overlay.bots ?? {})) for (const s of bot.secrets) keys.push(s.key);
    return keys;
  }
}

function pickSecrets(auth: BridgeSettings['auth']): unknown {
  return [auth.secretKey, auth.salt, auth.secrets, auth.bots];
}
