import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './dialects/dialect.js';
import { ensureIndex } from './migration-helpers.js';

/**
 * 0003: botbridge_journal, the durable record of admitted messages (core/src/journal/). A new
 * table of botbridge's own: no old deployment has it, so no compatibility branch.
 * `channel_id` is '' for a line without channelId (a NULL would make the unique key useless);
 * lines without logId are never journaled (they have no identity to dedup or replay under).
 */
export function journalTable(dialect: SchemaDialect): Migration {
  const t = dialect.columnTypes;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('botbridge_journal').ifNotExists()
        .addColumn('id', t.id, (c) => c.primaryKey().autoIncrement())
        .addColumn('bot_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('channel_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('log_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('device_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('room_key', 'varchar(255)', (c) => c.notNull())
        .addColumn('room_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('sender', 'varchar(255)', (c) => c.notNull())
        .addColumn('message', t.longText, (c) => c.notNull())
        .addColumn('user_hash', 'varchar(128)')
        .addColumn('is_group_chat', 'boolean', (c) => c.notNull().defaultTo(0))
        .addColumn('is_mention', 'boolean', (c) => c.notNull().defaultTo(0))
        .addColumn('client_timestamp', 'varchar(64)')
        .addColumn('trace_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('admitted_at', t.time, (c) => c.notNull())
        .addColumn('done_at', t.time)
        .addUniqueConstraint('uq_botbridge_journal_message', ['bot_name', 'channel_id', 'log_id'])
        .modifyEnd(dialect.tableOptions)
        .execute();
      await ensureIndex(db, dialect, { name: 'idx_botbridge_journal_state_admitted', table: 'botbridge_journal', columns: ['state', 'admitted_at'] });
      await ensureIndex(db, dialect, { name: 'idx_botbridge_journal_admitted', table: 'botbridge_journal', columns: ['admitted_at'] });
    },
  };
}
