import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './dialects/dialect.js';
import { LOCAL_NODE_ID } from './migration-journal-owner.js';
import { ensureIndex } from './migration-helpers.js';

/**
 * 0006: the node that queued each outbox row (cluster failover, docs/cluster.md "Failover"). A
 * cluster node reads and delivers only its own rows; when a node's lease is gone a survivor
 * takes its rows by compare-and-set per room (`UPDATE … SET node_id = me WHERE node_id = dead AND
 * bot_name = ? AND room_key = ?`), so a dead node's queued replies are delivered by exactly one
 * survivor. Existing rows and a single process's rows are 'local' (it reads every row, as before).
 */
export function outboxOwnerColumn(dialect: SchemaDialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      const columns = await dialect.readTableColumns(db, 'botbridge_outbox');
      if (!columns.has('node_id')) {
        await db.schema.alterTable('botbridge_outbox')
          .addColumn('node_id', 'varchar(100)', (c) => c.notNull().defaultTo(LOCAL_NODE_ID))
          .execute();
      }
      await ensureIndex(db, dialect, { name: 'idx_botbridge_outbox_node_room', table: 'botbridge_outbox', columns: ['node_id', 'bot_name', 'room_key', 'id'] });
    },
  };
}
