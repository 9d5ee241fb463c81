import type { SendResult } from '@botbridge/sdk';

export interface IdempotencyOptions {
  readonly windowMs: number;
  readonly maxKeys: number;
  readonly now?: () => number;
}

interface Entry {
  /** What was asked the first time (bot, room, content), hashed: a reused key with another request is a conflict. */
  readonly fingerprint: string;
  readonly expiresAt: number;
  readonly answer: Promise<SendResult>;
}

export type Remembered =
  | { readonly kind: 'new'; readonly answer: Promise<SendResult> }
  | { readonly kind: 'replayed'; readonly answer: Promise<SendResult> }
  | { readonly kind: 'conflict' };

/**
 * The push API's idempotency keys, per caller (the admin token or an integration's name), for
 * `windowMs`, at most `maxKeys` (the oldest forgotten first). A key repeated while its first
 * request is still in flight waits for that same answer, so a retrying webhook never sends
 * twice. A send that threw (the bridge is not running) is forgotten: it sent nothing, a retry
 * may. In memory only: a restart forgets the keys (docs/admin-api.md).
 */
export class IdempotencyKeys {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: IdempotencyOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The answer for this key: the first request's (replayed), or `send()`'s now (new). */
  remember(caller: string, key: string, fingerprint: string, send: () => Promise<SendResult>): Remembered {
    const now = this.now();
    this.expire(now);
    const id = `${caller}\u0000${key}`;
    const known = this.entries.get(id);
    if (known !== undefined && known.expiresAt > now) {
      return known.fingerprint === fingerprint ? { kind: 'replayed', answer: known.answer } : { kind: 'conflict' };
    }
    const answer = send();
    const entry: Entry = { fingerprint, expiresAt: now + this.options.windowMs, answer };
    this.entries.delete(id);
    this.entries.set(id, entry);
    answer.catch(() => {
      if (this.entries.get(id) === entry) this.entries.delete(id);
    });
    while (this.entries.size > this.options.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    return { kind: 'new', answer };
  }

  /** Entries are in insertion order, and every one lives `windowMs`: the expired ones are at the front. */
  private expire(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(id);
    }
  }
}
