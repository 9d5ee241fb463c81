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
  /** Expected signatures of blocks seen before (AuthGuard's); each one computed afresh without it. */
  readonly memo?: SignatureMemo;
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
  return hmacHex(signedMessage(fields, salt), secretKey);
}

function signedMessage(fields: SignedAuthFields, salt: string): string {
  return [
    fields.clientType ?? '',
    fields.botName ?? '',
    fields.deviceUUID ?? '',
    fields.macAddress ?? '',
    fields.ipAddress ?? '',
    fields.timestamp == null ? '' : String(fields.timestamp),
    salt,
  ].join('|');
}

function hmacHex(message: string, secretKey: string): string {
  return createHmac('sha256', secretKey).update(message, 'utf8').digest('hex');
}

/** Signed messages remembered per secret (about 250 bytes each with their signature). */
const MEMO_ENTRIES_PER_SECRET = 1_024;
/** Distinct secrets remembered (one per bot with its own key, plus rotations). */
const MEMO_SECRETS = 64;

/**
 * The expected signatures of recently seen blocks, so a block the script reuses for the
 * packets of its lifetime (the bench's phones and the app both send many lines under one
 * block) costs one HMAC, not one per packet: `createHmac` alone is several µs, most of it
 * OpenSSL's per-call setup. Only the computation is skipped: the given signature is still
 * compared in constant time with the expected one, and a block is found only by its signed
 * fields, which are not secret (they travel in the block), so a hit tells an attacker nothing
 * about a signature. Bounded: a full map of a secret is emptied and refilled.
 */
export class SignatureMemo {
  /** By secret key (the keyring's own string), then by signed message. */
  private readonly bySecret = new Map<string, Map<string, string>>();

  expected(fields: SignedAuthFields, secretKey: string, salt: string): string {
    const message = signedMessage(fields, salt);
    let signatures = this.bySecret.get(secretKey);
    if (signatures === undefined) {
      if (this.bySecret.size >= MEMO_SECRETS) this.bySecret.clear();
      signatures = new Map();
      this.bySecret.set(secretKey, signatures);
    }
    let hex = signatures.get(message);
    if (hex === undefined) {
      hex = hmacHex(message, secretKey);
      if (signatures.size >= MEMO_ENTRIES_PER_SECRET) signatures.clear();
      signatures.set(message, hex);
    }
    return hex;
  }

  /** Forgets everything (the secrets changed: a reload or the secrets file). */
  clear(): void {
    this.bySecret.clear();
  }
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
  const memo = opts.memo;
  for (const secret of opts.secrets) {
    const expected = memo === undefined ? signAuth(block, secret.secretKey, secret.salt) : memo.expected(block, secret.secretKey, secret.salt);
    if (constantTimeEquals(block.signature, expected)) matched = true;
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
