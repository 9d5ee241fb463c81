import type { BridgeSettings } from '@botbridge/sdk';
import type { BridgeErrorCode } from '../errors.js';
import { verifyAuth } from '../protocol/hmac.js';

export type AuthOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: BridgeErrorCode; readonly params: Record<string, unknown>; readonly enforced: boolean };

/**
 * Checks the `auth` block of every analyze and ping packet (PROTOCOL.md §4). The old server only
 * logged failures; botbridge drops the packet unless the operator chose `auth.mode: 'log'` for a
 * migration. The secret and salt can differ per bot.
 */
export class AuthGuard {
  constructor(private readonly settings: BridgeSettings['auth']) {}

  check(auth: unknown, botName: string, deviceId: string, nowMs: number): AuthOutcome {
    const perBot = this.settings.bots[botName];
    const result = verifyAuth(auth, {
      secretKey: perBot?.secretKey ?? this.settings.secretKey,
      salt: perBot?.salt ?? this.settings.salt,
      nowMs,
      windowMs: this.settings.timestampWindowMs,
      expectedBotName: botName,
      expectedDeviceId: deviceId,
    });
    if (result.ok) return result;
    return { ok: false, code: result.code, params: result.params, enforced: this.settings.mode === 'enforce' };
  }
}

/** Sliding window of failure times: `record()` says when the connection has failed too often. */
export class FailureWindow {
  private readonly times: number[] = [];

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Records a failure at `nowMs`; returns the failures within the window, this one included. */
  record(nowMs: number): number {
    this.times.push(nowMs);
    while (this.times.length > 0 && this.times[0]! <= nowMs - this.windowMs) this.times.shift();
    return this.times.length;
  }

  exceeded(count: number): boolean {
    return count >= this.max;
  }
}
