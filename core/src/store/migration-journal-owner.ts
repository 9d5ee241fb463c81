import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './dialects/dialect.js';
import { ensureIndex } from './migration-helpers.js';

/** The node id of rows written before cluster mode, and of every row of a single-process bridge. */
export const LOCAL_NODE_ID = 'local';

/**
 * 0005: the owner of each journal row (cluster failover, core/src/journal/journal-adoption.ts).
 * `node_id` is the node that admitted the row, or the node that adopted it after its owner's
 * lease expired; `owner_epoch` counts those adoptions and is the fence of the claim: a node
 * adopts a dead node's rows with `UPDATE … SET node_id = me, owner_epoch = owner_epoch + 1
 * WHERE node_id = dead AND owner_epoch = <read> …`, so two survivors never both take a row.
 * Existing rows get the defaults ('local', 0): a single-process bridge reads every row as its
 * own, as before. Columns are added only when missing (the migration may run again after a
 * concurrent migrator, see migrateToLatest).
 *
 * The indexes: `(node_id, state, admitted_at)` serves a claim and a node's own replay;
 * `(bot_name, device_id, admitted_at)` the per-device dedup load at each handshake in cluster
 * mode (never a scan of the whole window per reconnecting phone).
 */
export function journalOwnerColumns(dialect: SchemaDialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      const columns = await dialect.readTableColumns(db, 'botbridge_journal');
      if (!columns.has('node_id')) {
        await db.schema.alterTable('botbridge_journal')
          .addColumn('node_id', 'varchar(100)', (c) => c.notNull().defaultTo(LOCAL_NODE_ID))
          .execute();
      }
      if (!columns.has('owner_epoch')) {
        await db.schema.alterTable('botbridge_journal')
          .addColumn('owner_epoch', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      }
      await ensureIndex(db, dialect, { name: 'idx_botbridge_journal_node_state', table: 'botbridge_journal', columns: ['node_id', 'state', 'admitted_at'] });
      await ensureIndex(db, dialect, { name: 'idx_botbridge_journal_device', table: 'botbridge_journal', columns: ['bot_name', 'device_id', 'admitted_at'] });
    },
  };
}
