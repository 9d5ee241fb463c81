/**
 * A token bucket on the monotonic clock: `ratePerSecond` refills, up to `burst`. `take()` lets
 * the balance go negative and says how long the caller must stop to pay the debt back, so a
 * connection is throttled by pausing its reading (its bytes wait in the kernel, costing no CPU)
 * rather than by dropping what it sent: a phone's legitimate burst (the ten packets its offline
 * queue sends on reconnect) is only delayed, never lost.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number = performance.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Spends `amount`; returns the milliseconds until the balance is back to zero (0: no debt). */
  take(amount: number, now: number = performance.now()): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    this.last = now;
    this.tokens -= amount;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.ratePerSecond);
  }
}

/** Per-connection rate limits (limits.maxBytesPerSecond, limits.maxMessagesPerSecond). */
export interface RateLimits {
  readonly bytesPerSecond: number;
  readonly messagesPerSecond: number;
  /** Seconds of rate a connection may spend at once before it is throttled. */
  readonly burstSeconds: number;
  /** The byte burst is never below this (the line limit: one maximal line must get through). */
  readonly minByteBurst?: number;
}

export type ThrottleKind = 'bytes' | 'messages';
