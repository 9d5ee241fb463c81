import type { SendResult } from '@botbridge/sdk';
import { reasonOf } from '../../errors.js';
import type { CoreLogger } from '../../logger.js';
import type { PushKeyRecord } from '../../store/types.js';

export interface IdempotencyOptions {
  readonly windowMs: number;
  readonly maxKeys: number;
}

/** The store's side of the keys (botbridge_push_keys), so a restart does not forget them. */
export interface DurableKeys {
  claimPushKey(caller: string, key: string, fingerprint: string, now: Date, expiresAt: Date): Promise<boolean>;
  getPushKey(caller: string, key: string): Promise<PushKeyRecord | undefined>;
  settlePushKey(caller: string, key: string, result: string): Promise<void>;
  releasePushKey(caller: string, key: string): Promise<void>;
  prunePushKeys(now: Date): Promise<number>;
}

export type Answer =
  | { readonly kind: 'new'; readonly result: SendResult }
  | { readonly kind: 'replayed'; readonly result: SendResult }
  | { readonly kind: 'conflict' }
  /** Claimed by an earlier run that ended before recording its result: it may have been sent. */
  | { readonly kind: 'unknown' };

interface Entry {
  /** What was asked the first time (bot, room, content), hashed. */
  readonly fingerprint: string;
  readonly expiresAt: number;
  readonly answer: Promise<Answer>;
}

const PRUNE_EVERY_MS = 60_000;

/**
 * The push API's idempotency keys, per caller (the admin token or an integration's name), for
 * `windowMs`. In memory (at most `maxKeys`, oldest forgotten first) so a key repeated while its
 * first request is in flight waits for that same answer, and in the store (when given) so a
 * restart or another process does not send twice: the key is claimed there before the send
 * and its result recorded after. A claim whose result never came (a crash mid-send) answers
 * `unknown`, never a second send. A send that threw sent nothing: the key is given back.
 * A store that cannot answer does not stop pushes: the key is then kept in memory only (logged).
 */
export class IdempotencyKeys {
  private readonly entries = new Map<string, Entry>();
  private nextPruneAt = 0;

  constructor(
    private readonly options: IdempotencyOptions,
    private readonly durable: (() => DurableKeys) | null,
    private readonly log: CoreLogger,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The answer for this key: the first request's (replayed), or `send()`'s now (new). */
  remember(caller: string, key: string, fingerprint: string, send: () => Promise<SendResult>): Promise<Answer> {
    const now = Date.now();
    this.expire(now);
    const id = `${caller}\u0000${key}`;
    const known = this.entries.get(id);
    if (known !== undefined && known.expiresAt > now) {
      if (known.fingerprint !== fingerprint) return Promise.resolve({ kind: 'conflict' });
      return known.answer.then((a) => (a.kind === 'new' ? { kind: 'replayed', result: a.result } : a));
    }
    const answer = this.decide(caller, key, fingerprint, now, send);
    const entry: Entry = { fingerprint, expiresAt: now + this.options.windowMs, answer };
    this.entries.delete(id);
    this.entries.set(id, entry);
    answer.catch(() => {
      if (this.entries.get(id) === entry) this.entries.delete(id);
    });
    while (this.entries.size > this.options.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    return answer;
  }

  private async decide(caller: string, key: string, fingerprint: string, now: number, send: () => Promise<SendResult>): Promise<Answer> {
    const store = this.durable?.() ?? null;
    let claimed = false;
    if (store !== null) {
      this.prune(store, now);
      try {
        claimed = await store.claimPushKey(caller, key, fingerprint, new Date(now), new Date(now + this.options.windowMs));
        if (!claimed) {
          const row = await store.getPushKey(caller, key);
          if (row !== undefined) {
            if (row.fingerprint !== fingerprint) return { kind: 'conflict' };
            if (row.result === null) return { kind: 'unknown' };
            return { kind: 'replayed', result: JSON.parse(row.result) as SendResult };
          }
        }
      } catch (error) {
        this.log.warn({ err: reasonOf(error), caller: caller || 'admin' }, 'push idempotency key not stored (store unavailable): kept in memory only');
      }
    }
    let result: SendResult;
    try {
      result = await send();
    } catch (error) {
      if (claimed) await store!.releasePushKey(caller, key).catch(() => undefined);
      throw error;
    }
    if (claimed) {
      await store!.settlePushKey(caller, key, JSON.stringify(result)).catch((error: unknown) => {
        this.log.warn({ err: reasonOf(error), caller: caller || 'admin' }, 'push idempotency key: result not recorded (store unavailable)');
      });
    }
    return { kind: 'new', result };
  }

  private prune(store: DurableKeys, now: number): void {
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + PRUNE_EVERY_MS;
    store.prunePushKeys(new Date(now)).catch((error: unknown) => this.log.warn({ err: reasonOf(error) }, 'push idempotency keys: prune failed'));
  }

  /** Entries are in insertion order, and every one lives `windowMs`: the expired ones are at the front. */
  private expire(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(id);
    }
  }
}
