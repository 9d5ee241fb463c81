import type { BridgeSettings } from '@botbridge/sdk';
import type { BridgeErrorCode } from '../errors.js';
import { verifyAuth } from '../protocol/hmac.js';
import { BanList } from './ban-list.js';
import { Keyring } from './keyring.js';
import { ReplayGuard } from './replay-guard.js';

export type AuthOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: BridgeErrorCode; readonly params: Record<string, unknown>; readonly enforced: boolean };

/**
 * Checks the `auth` block of every analyze and ping packet (PROTOCOL.md §4). The old server only
 * logged failures; botbridge drops the packet unless the operator chose `auth.mode: 'log'` for a
 * migration. The secrets come from the keyring (per bot, several during a rotation); a block
 * that verified is then checked against the replay guard with the packet's id, so a captured
 * line replayed within the window is refused (issue 13, docs/security.md).
 */
export class AuthGuard {
  readonly keyring: Keyring;
  /** Issue 13: temporary bans for failed authentication and flapping (ban-list.ts). */
  readonly bans: BanList;
  private readonly replays: ReplayGuard;

  constructor(
    private readonly settings: BridgeSettings['auth'],
    bans: BridgeSettings['bans'],
  ) {
    this.keyring = new Keyring(settings);
    this.bans = new BanList(bans);
    this.replays = new ReplayGuard({
      windowMs: settings.timestampWindowMs,
      maxPerDevice: settings.replayCachePerDevice,
      maxDevices: settings.replayCacheDevices,
    });
  }

  /** `packetId` identifies the packet under its block (replay-guard.ts); absent: no replay check. */
  check(auth: unknown, botName: string, deviceId: string, nowMs: number, packetId?: string): AuthOutcome {
    const result = verifyAuth(auth, {
      secrets: this.keyring.secretsFor(botName, nowMs),
      nowMs,
      windowMs: this.settings.timestampWindowMs,
      expectedBotName: botName,
      expectedDeviceId: deviceId,
      memo: this.keyring.signatures,
    });
    const enforced = this.settings.mode === 'enforce';
    if (!result.ok) return { ok: false, code: result.code, params: result.params, enforced };
    if (packetId === undefined) return { ok: true };
    const replay = this.replays.admit(botName, deviceId, result.block.signature, packetId, result.block.timestamp, nowMs);
    if (replay.ok) return { ok: true };
    const reason = replay.reason === 'replayed' ? `same signature and packet seen ${replay.seenAgoMs ?? 0} ms ago` : "this device's replay cache is full of live entries";
    return { ok: false, code: 'BRIDGE_ERR_AUTH_REPLAYED', params: { reason, replay: replay.reason }, enforced };
  }

  /** Packets the replay guard remembers. */
  get replayCacheSize(): number {
    return this.replays.size;
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
