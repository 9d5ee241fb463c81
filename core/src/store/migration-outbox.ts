import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './dialects/dialect.js';
import { ensureIndex } from './migration-helpers.js';

/**
 * 0004: botbridge_outbox, replies kept for a bot whose devices are all offline
 * (core/src/outbound/outbox.ts). A new table of botbridge's own, so no compatibility branch.
 * `id` is the delivery order within a room (auto-increment, so a later insert sorts later);
 * `room_key` is the sequencer's room key without the bot (channelId or `name:<room>`);
 * `reply` is the Reply as JSON (encoded at delivery, so a codec change applies to old rows).
 */
export function outboxTable(dialect: SchemaDialect): Migration {
  const t = dialect.columnTypes;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('botbridge_outbox').ifNotExists()
        .addColumn('id', t.id, (c) => c.primaryKey().autoIncrement())
        .addColumn('bot_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('room_key', 'varchar(255)', (c) => c.notNull())
        .addColumn('room_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('channel_id', 'varchar(64)')
        .addColumn('device_id', 'varchar(255)')
        .addColumn('reply', t.longText, (c) => c.notNull())
        .addColumn('trace_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('reply_index', 'integer', (c) => c.notNull())
        .addColumn('queued_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .modifyEnd(dialect.tableOptions)
        .execute();
      await ensureIndex(db, dialect, { name: 'idx_botbridge_outbox_room', table: 'botbridge_outbox', columns: ['bot_name', 'room_key', 'id'] });
      await ensureIndex(db, dialect, { name: 'idx_botbridge_outbox_expires', table: 'botbridge_outbox', columns: ['expires_at'] });
    },
  };
}
