import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BridgeErrorCode } from '../errors.js';
import { decodeAuthBlock, type AuthBlock } from './packets.js';

/** The fields the client signs (PROTOCOL.md §4); a missing one is signed as the empty string. */
export interface SignedAuthFields {
  readonly clientType?: string | null;
  readonly botName?: string | null;
  readonly deviceUUID?: string | null;
  readonly macAddress?: string | null;
  readonly ipAddress?: string | null;
  readonly timestamp?: number | null;
}

/** One secret a block may be signed with (several during a rotation). */
export interface SigningSecret {
  readonly secretKey: string;
  readonly salt: string;
}

export interface VerifyAuthOptions {
  /** Every secret valid now; the block passes when it was signed with any of them. */
  readonly secrets: readonly SigningSecret[];
  readonly nowMs: number;
  readonly windowMs: number;
  /** The connection's handshake identity: a captured block of another device is refused. */
  readonly expectedBotName: string;
  readonly expectedDeviceId: string;
}

export type AuthCode = Extract<
  BridgeErrorCode,
  | 'BRIDGE_ERR_AUTH_MISSING'
  | 'BRIDGE_ERR_AUTH_INVALID'
  | 'BRIDGE_ERR_AUTH_STALE'
  | 'BRIDGE_ERR_AUTH_IDENTITY'
  | 'BRIDGE_ERR_AUTH_SIGNATURE'
>;

export type VerifyAuthResult =
  | { readonly ok: true; readonly block: AuthBlock }
  | { readonly ok: false; readonly code: AuthCode; readonly params: Record<string, unknown> };

/** Lowercase hex HMAC-SHA256 of `clientType|botName|deviceUUID|macAddress|ipAddress|timestamp|salt`. */
export function signAuth(fields: SignedAuthFields, secretKey: string, salt: string): string {
  const message = [
    fields.clientType ?? '',
    fields.botName ?? '',
    fields.deviceUUID ?? '',
    fields.macAddress ?? '',
    fields.ipAddress ?? '',
    fields.timestamp == null ? '' : String(fields.timestamp),
    salt,
  ].join('|');
  return createHmac('sha256', secretKey).update(message, 'utf8').digest('hex');
}

/**
 * Checks an auth block as the old server should have (§4, botbridge enforces). Cheap checks run
 * first so a flood of stale or foreign blocks costs no HMAC. The signature covers no content, so
 * identity is checked against the handshake to keep a block captured from one device from
 * speaking for another.
 */
export function verifyAuth(auth: unknown, opts: VerifyAuthOptions): VerifyAuthResult {
  if (auth == null) return { ok: false, code: 'BRIDGE_ERR_AUTH_MISSING', params: {} };
  const decoded = decodeAuthBlock(auth);
  if (!decoded.ok) return { ok: false, code: 'BRIDGE_ERR_AUTH_INVALID', params: { reason: decoded.reason } };
  const block = decoded.auth;
  if (block.botName !== opts.expectedBotName || block.deviceId !== opts.expectedDeviceId) {
    return {
      ok: false,
      code: 'BRIDGE_ERR_AUTH_IDENTITY',
      params: { authBot: block.botName, authDevice: block.deviceId },
    };
  }
  const skewMs = opts.nowMs - block.timestamp;
  if (Math.abs(skewMs) > opts.windowMs) {
    return { ok: false, code: 'BRIDGE_ERR_AUTH_STALE', params: { skewMs, windowMs: opts.windowMs } };
  }
  // Every secret is tried (no early exit), so the time taken does not tell which one matched.
  let matched = false;
  for (const secret of opts.secrets) {
    if (constantTimeEquals(block.signature, signAuth(block, secret.secretKey, secret.salt))) matched = true;
  }
  if (!matched) return { ok: false, code: 'BRIDGE_ERR_AUTH_SIGNATURE', params: {} };
  return { ok: true, block };
}

/** timingSafeEqual throws on unequal lengths; a wrong-length signature is simply unequal. */
function constantTimeEquals(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
