import { reasonOf } from '../errors.js';
import { isLockContention, isStoreUnavailable } from './store-errors.js';

export type StoreHealthState = 'healthy' | 'degraded';

export interface StoreHealthView {
  readonly state: StoreHealthState;
  readonly healthy: boolean;
  /** Degraded -> healthy transitions so far: a session decided while degraded waits for the next one. */
  readonly recoveries: number;
}

export interface StoreHealthOptions {
  /** Called on every transition, with the error's reason when degrading. */
  readonly onChange?: (state: StoreHealthState, reason: string | null) => void;
}

/**
 * Whether the store answers. The first call that fails because the database is unreachable or
 * too slow (store-errors.ts) makes it degraded; the next call that gets an answer, even a
 * refusal, makes it healthy again. Nothing polls here: the approval cache's refresh, which runs
 * every few seconds anyway, is what notices the database coming back.
 */
export class StoreHealth implements StoreHealthView {
  private current: StoreHealthState = 'healthy';
  private recovered = 0;
  private lastReason: string | null = null;

  constructor(private readonly options: StoreHealthOptions = {}) {}

  get state(): StoreHealthState {
    return this.current;
  }

  get healthy(): boolean {
    return this.current === 'healthy';
  }

  get recoveries(): number {
    return this.recovered;
  }

  /** Why it last degraded. */
  get reason(): string | null {
    return this.lastReason;
  }

  answered(): void {
    if (this.current === 'healthy') return;
    this.current = 'healthy';
    this.recovered += 1;
    this.options.onChange?.('healthy', null);
  }

  failed(error: unknown): void {
    // A refused statement or lock contention is an answer: the database is there.
    if (!isStoreUnavailable(error) || isLockContention(error)) {
      this.answered();
      return;
    }
    if (this.current === 'degraded') return;
    this.current = 'degraded';
    this.lastReason = reasonOf(error);
    this.options.onChange?.('degraded', this.lastReason);
  }
}
