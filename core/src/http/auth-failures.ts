/**
 * Failed authentications per client address in a fixed window. An address that reaches the
 * limit is refused (429) on every admin route, a valid token included, until its window ends:
 * otherwise a guesser would learn the right token from the one answer that is not 429.
 * Only failures count, so a busy dashboard is never throttled. Memory is bounded: past
 * `maxAddresses` the oldest window is forgotten.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { startedAt: number; failures: number }>();

  constructor(
    private readonly options: {
      readonly limit: number;
      readonly windowMs: number;
      readonly maxAddresses?: number;
      readonly now?: () => number;
    },
  ) {}

  /** Milliseconds until `address` may try again, or 0 when it is not blocked. */
  blockedFor(address: string): number {
    const window = this.current(address);
    if (window === undefined || window.failures < this.options.limit) return 0;
    return window.startedAt + this.options.windowMs - this.now();
  }

  /** Records one failure; returns the failures of the address's current window. */
  fail(address: string): number {
    let window = this.current(address);
    if (window === undefined) {
      window = { startedAt: this.now(), failures: 0 };
      // Re-inserted so the Map's order stays oldest-first for eviction.
      this.windows.delete(address);
      this.windows.set(address, window);
      this.evict();
    }
    window.failures += 1;
    return window.failures;
  }

  private current(address: string) {
    const window = this.windows.get(address);
    if (window === undefined) return undefined;
    if (this.now() - window.startedAt >= this.options.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  private evict(): void {
    const max = this.options.maxAddresses ?? 10_000;
    for (const address of this.windows.keys()) {
      if (this.windows.size <= max) return;
      this.windows.delete(address);
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
