import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MIN_SECRET_BYTES } from '@botbridge/sdk/internal';
import type { BridgeSettings } from '@botbridge/sdk';
import { BridgeError, reasonOf } from '../../errors.js';

type IntegrationConfig = BridgeSettings['http']['integrations'][number];

/** An integration a request authenticated as: what it may reach. */
export interface Integration {
  readonly name: string;
  /** May this integration send to this bot's room (`channelId`, or `name:<room>` without one)? */
  allows(botName: string, roomId: string): boolean;
}

class ConfiguredIntegration implements Integration {
  private readonly bots: ReadonlySet<string>;
  private readonly rooms: ReadonlySet<string> | null;
  constructor(
    readonly name: string,
    readonly digest: Buffer,
    config: IntegrationConfig,
  ) {
    this.bots = new Set(config.bots);
    this.rooms = config.rooms === undefined ? null : new Set(config.rooms);
  }

  allows(botName: string, roomId: string): boolean {
    return this.bots.has(botName) && (this.rooms === null || this.rooms.has(roomId));
  }
}

/**
 * The push API's integration tokens (`http.integrations`). A candidate is hashed once and
 * compared with every configured digest, without stopping at a match, so neither which token
 * matched nor how many there are leaks through timing. Tokens are never logged: only names.
 */
export class IntegrationTokens {
  private constructor(private readonly entries: readonly ConfiguredIntegration[]) {}

  /** Reads `tokenFile`s now; a missing, unreadable or short file fails the start (fail closed). */
  static resolve(configs: readonly IntegrationConfig[], isAdminToken: (token: string) => boolean = () => false): IntegrationTokens {
    const entries = configs.map((config) => {
      const token = config.token ?? readToken(config);
      const digest = sha256(token);
      if (isAdminToken(token)) {
        throw new BridgeError('BRIDGE_ERR_CONFIG_INVALID', { issues: `http.integrations: ${config.name}'s token is the admin token` });
      }
      return new ConfiguredIntegration(config.name, digest, config);
    });
    return new IntegrationTokens(entries);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The integration whose token this is, or null. Constant time in the candidate. */
  match(candidate: string): Integration | null {
    if (this.entries.length === 0) return null;
    const digest = sha256(candidate);
    let found: ConfiguredIntegration | null = null;
    for (const entry of this.entries) if (timingSafeEqual(entry.digest, digest) && found === null) found = entry;
    return found;
  }
}

function readToken(config: IntegrationConfig): string {
  let token: string;
  try {
    token = readFileSync(config.tokenFile!, 'utf8').trim();
  } catch (error) {
    throw new BridgeError('BRIDGE_ERR_CONFIG_INVALID', { issues: `http.integrations: ${config.name}'s tokenFile cannot be read: ${reasonOf(error)}` });
  }
  if (Buffer.byteLength(token) < MIN_SECRET_BYTES) {
    throw new BridgeError('BRIDGE_ERR_CONFIG_INVALID', { issues: `http.integrations: ${config.name}'s token must be at least ${MIN_SECRET_BYTES} bytes` });
  }
  return token;
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
