import { sql, type Kysely } from 'kysely';
import type { PluginMigration, PluginSchema } from '@botbridge/sdk';

/**
 * kb_schedule and kb_schedule_logs as the old server's PHP admin creates them
 * (web/dmk/sql/007_create_kb_tables.sql in the domaeka repository): on MySQL with the same
 * enum, set and json columns, so the PHP pages keep working on a database botbridge created;
 * on SQLite the same columns as TEXT and INTEGER. Created only when missing: an operator's
 * existing tables are never altered, except for the one nullable column botbridge adds
 * (`catch_up_seconds`, the per-schedule catch-up window; NULL = the plugin's default).
 */

const mysql = (schema: PluginSchema) => schema.dialect === 'mysql';

function types(schema: PluginSchema) {
  const my = mysql(schema);
  return {
    json: my ? sql`json` : sql`text`,
    datetime: my ? sql`datetime` : sql`text`,
    date: my ? sql`date` : sql`text`,
    time: my ? sql`time` : sql`text`,
    scheduleType: my ? sql`enum('once','weekly','daily')` : sql`varchar(10)`,
    weekdays: my ? sql`set('monday','tuesday','wednesday','thursday','friday','saturday','sunday')` : sql`varchar(100)`,
    scheduleStatus: my ? sql`enum('active','inactive','completed','error')` : sql`varchar(20)`,
    creatorType: my ? sql`enum('distributor','agency','branch')` : sql`varchar(20)`,
    logStatus: my ? sql`enum('success','failed','partial')` : sql`varchar(20)`,
    now: sql`CURRENT_TIMESTAMP`,
  };
}

async function createTables(db: Kysely<any>, schema: PluginSchema): Promise<void> {
  const t = types(schema);
  const logsExisted = (await schema.tableColumns('kb_schedule_logs')).size > 0;
  // int ids as in the PHP admin's DDL (the log's schedule_id references it); `integer` is also
  // the one type SQLite accepts for AUTOINCREMENT.
  await db.schema.createTable('kb_schedule').ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('title', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_by_type', t.creatorType, (c) => c.notNull())
    .addColumn('created_by_id', 'varchar(50)', (c) => c.notNull())
    .addColumn('created_by_mb_id', 'varchar(50)', (c) => c.notNull())
    .addColumn('target_bot_name', 'varchar(30)', (c) => c.notNull())
    // The old server's later head (its 016_add_device_id_to_schedule.sql): the preferred phone.
    .addColumn('target_device_id', 'varchar(100)')
    .addColumn('target_room_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('message_text', 'text')
    .addColumn('message_images_1', t.json)
    .addColumn('message_images_2', t.json)
    .addColumn('send_interval_seconds', 'integer', (c) => c.defaultTo(1))
    .addColumn('media_wait_time_1', 'integer', (c) => c.defaultTo(0))
    .addColumn('media_wait_time_2', 'integer', (c) => c.defaultTo(0))
    .addColumn('schedule_type', t.scheduleType, (c) => c.notNull())
    .addColumn('schedule_date', t.date)
    .addColumn('schedule_time', t.time, (c) => c.notNull())
    .addColumn('schedule_times', t.json)
    .addColumn('schedule_weekdays', t.weekdays)
    .addColumn('valid_from', t.datetime, (c) => c.notNull())
    .addColumn('valid_until', t.datetime, (c) => c.notNull())
    .addColumn('status', t.scheduleStatus, (c) => c.defaultTo('active'))
    .addColumn('last_sent_at', t.datetime)
    .addColumn('next_send_at', t.datetime)
    .addColumn('send_count', 'integer', (c) => c.defaultTo(0))
    .addColumn('catch_up_seconds', 'integer')
    .addColumn('created_at', t.datetime, (c) => c.notNull().defaultTo(t.now))
    .addColumn('updated_at', t.datetime, (c) => {
      const col = c.notNull().defaultTo(t.now);
      return mysql(schema) ? col.modifyEnd(sql`on update CURRENT_TIMESTAMP`) : col;
    })
    .modifyEnd(schema.tableOptions)
    .execute();
  await db.schema.createTable('kb_schedule_logs').ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('schedule_id', 'integer', (c) => c.notNull())
    .addColumn('target_room_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('sent_message_text', 'text')
    .addColumn('sent_images_1', t.json)
    .addColumn('sent_images_2', t.json)
    .addColumn('send_components', 'varchar(50)')
    .addColumn('status', t.logStatus, (c) => c.notNull())
    .addColumn('error_message', 'text')
    .addColumn('api_response', t.json)
    .addColumn('scheduled_at', t.datetime, (c) => c.notNull())
    .addColumn('started_at', t.datetime, (c) => c.notNull())
    .addColumn('completed_at', t.datetime)
    .addColumn('duration_ms', 'integer')
    .addColumn('created_at', t.datetime, (c) => c.notNull().defaultTo(t.now))
    .addForeignKeyConstraint('fk_schedule_logs_schedule', ['schedule_id'], 'kb_schedule', ['id'], (fk) => fk.onDelete('cascade'))
    .modifyEnd(schema.tableOptions)
    .execute();
  await schema.ensureIndex({ name: 'idx_schedule_polling', table: 'kb_schedule', columns: ['status', 'next_send_at', 'valid_from', 'valid_until'] });
  await schema.ensureIndex({ name: 'idx_target_bot', table: 'kb_schedule', columns: ['target_bot_name', 'target_room_id'] });
  await schema.ensureIndex({ name: 'idx_target_room', table: 'kb_schedule', columns: ['target_room_id', 'target_bot_name'] });
  await schema.ensureIndex({ name: 'idx_created_by', table: 'kb_schedule', columns: ['created_by_type', 'created_by_id'] });
  if (!logsExisted) {
    // The old table's foreign key is an index too; a log table of an old deployment already has one.
    await schema.ensureIndex({ name: 'idx_schedule_logs_schedule', table: 'kb_schedule_logs', columns: ['schedule_id', 'scheduled_at'] });
    await schema.ensureIndex({ name: 'idx_status_time', table: 'kb_schedule_logs', columns: ['status', 'scheduled_at'] });
  }
}

/** An operator's kb_schedule (created by the PHP admin) gets the one column botbridge adds. */
async function addCatchUpColumn(db: Kysely<any>, schema: PluginSchema): Promise<void> {
  const columns = await schema.tableColumns('kb_schedule');
  if (columns.has('catch_up_seconds')) return;
  await db.schema.alterTable('kb_schedule').addColumn('catch_up_seconds', 'integer').execute();
}

export const SCHEDULER_MIGRATIONS: Readonly<Record<string, PluginMigration>> = {
  '0001_kb_schedule': createTables,
  '0002_catch_up_seconds': addCatchUpColumn,
};
