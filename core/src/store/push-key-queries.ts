import type { Kysely } from 'kysely';
import type { DbClock } from './db-time.js';
import type { Database } from './schema.js';
import type { PushKeyRecord } from './types.js';

/**
 * The push API's idempotency keys (botbridge_push_keys), written once for both dialects. A claim
 * is an INSERT that does nothing when the key exists (SQLite `or ignore`, MySQL `ignore`), so of
 * two processes claiming one key at once exactly one wins.
 */

/** Claims the key for a send about to happen; false when it is already taken (and not expired). */
export async function claimPushKey(db: Kysely<Database>, clock: DbClock, caller: string, key: string, fingerprint: string, now: Date, expiresAt: Date): Promise<boolean> {
  // An expired row the prune has not reached yet would block the claim: it goes first.
  await db.deleteFrom('botbridge_push_keys')
    .where('caller', '=', caller).where('idem_key', '=', key).where('expires_at', '<=', clock.toDb(now))
    .execute();
  const result = await db.insertInto('botbridge_push_keys').orIgnore()
    .values({ caller, idem_key: key, fingerprint, result: null, expires_at: clock.toDb(expiresAt) })
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function getPushKey(db: Kysely<Database>, clock: DbClock, caller: string, key: string): Promise<PushKeyRecord | undefined> {
  const row = await db.selectFrom('botbridge_push_keys').selectAll()
    .where('caller', '=', caller).where('idem_key', '=', key)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return { fingerprint: row.fingerprint, result: row.result, expiresAt: clock.fromDb(row.expires_at) ?? new Date(0) };
}

/** Records the send's result (JSON) on a claimed key. */
export async function settlePushKey(db: Kysely<Database>, caller: string, key: string, result: string): Promise<void> {
  await db.updateTable('botbridge_push_keys').set({ result }).where('caller', '=', caller).where('idem_key', '=', key).execute();
}

/** Gives a claimed key back (its send threw before anything was sent). */
export async function releasePushKey(db: Kysely<Database>, caller: string, key: string): Promise<void> {
  await db.deleteFrom('botbridge_push_keys').where('caller', '=', caller).where('idem_key', '=', key).where('result', 'is', null).execute();
}

/** Deletes keys past their window (indexed by expires_at; run once a minute, so each run is small). */
export async function prunePushKeys(db: Kysely<Database>, clock: DbClock, now: Date): Promise<number> {
  const result = await db.deleteFrom('botbridge_push_keys').where('expires_at', '<=', clock.toDb(now)).executeTakeFirst();
  return Number(result.numDeletedRows ?? 0n);
}
