import { createHmac } from 'node:crypto';
import type { AuthBlock } from './wire-types.js';

/**
 * The bridge script's HMAC signing (PROTOCOL.md §4), written independently of the core on
 * purpose: the fake client is a second implementation, so a server that drifts from the
 * protocol fails the tests instead of agreeing with itself.
 */

/** The secret and salt built into every deployed v3.2.x bridge script. */
export const SCRIPT_SECRET_KEY = '8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8';
export const SCRIPT_SALT = '7f$kLz9^&*1pXyZ2';

/** What the script puts in its auth block besides timestamp and signature. */
export interface AuthIdentity {
  readonly clientType: string;
  readonly botName: string;
  /** The script sends 'unknown' when Android hides it. */
  readonly deviceUUID: string;
  readonly deviceID: string;
  /** Android ≥ 6 reports this constant to apps. */
  readonly macAddress: string;
  readonly ipAddress: string;
  readonly version: string;
}

export interface SigningKey {
  readonly secretKey: string;
  readonly salt: string;
}

/** Lowercase hex HMAC-SHA256 over `clientType|botName|deviceUUID|macAddress|ipAddress|timestamp|salt`. */
export function signAuth(
  fields: Pick<AuthIdentity, 'clientType' | 'botName' | 'deviceUUID' | 'macAddress' | 'ipAddress'>,
  timestamp: number,
  key: SigningKey,
): string {
  const message = [
    fields.clientType,
    fields.botName,
    fields.deviceUUID,
    fields.macAddress,
    fields.ipAddress,
    String(timestamp),
    key.salt,
  ].join('|');
  return createHmac('sha256', Buffer.from(key.secretKey, 'utf8')).update(message, 'utf8').digest('hex');
}

/** A signed auth block in the script's key order. */
export function buildAuthBlock(identity: AuthIdentity, timestamp: number, key: SigningKey): AuthBlock {
  return {
    clientType: identity.clientType,
    botName: identity.botName,
    deviceUUID: identity.deviceUUID,
    deviceID: identity.deviceID,
    macAddress: identity.macAddress,
    ipAddress: identity.ipAddress,
    timestamp,
    version: identity.version,
    signature: signAuth(identity, timestamp, key),
  };
}
