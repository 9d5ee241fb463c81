import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './dialects/dialect.js';
import { ensureIndex } from './migration-helpers.js';

/**
 * 0006: botbridge_push_keys, the push API's idempotency keys (core/src/http/push/idempotency.ts),
 * so a webhook retried across a restart is not sent twice. One row per (caller, key): claimed
 * before the send (`result` null), the SendResult as JSON once decided; deleted past
 * `expires_at`. A table of botbridge's own, so no compatibility branch.
 */
export function pushKeysTable(dialect: SchemaDialect): Migration {
  const t = dialect.columnTypes;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('botbridge_push_keys').ifNotExists()
        .addColumn('caller', 'varchar(100)', (c) => c.notNull())
        .addColumn('idem_key', 'varchar(200)', (c) => c.notNull())
        .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('pk_botbridge_push_keys', ['caller', 'idem_key'])
        .modifyEnd(dialect.tableOptions)
        .execute();
      await ensureIndex(db, dialect, { name: 'idx_botbridge_push_keys_expires', table: 'botbridge_push_keys', columns: ['expires_at'] });
    },
  };
}
