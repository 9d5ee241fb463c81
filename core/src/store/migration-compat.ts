import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './dialects/dialect.js';
import { ensureIndex } from './migration-helpers.js';
import type { ColumnType, ColumnTypes } from './migration-helpers.js';
import { hasUniqueKeyWithin } from './schema-inspect.js';

/**
 * 0002: brings kb_* tables that existed before botbridge (the old Python server's, in several
 * historical versions) up to what botbridge reads and writes, without touching their rows:
 * - a missing column is added, always nullable and without a default, so no existing row
 *   changes (an old kb_bot_devices may lack max_message_size, an old kb_rooms approved_at);
 * - the key botbridge relies on for race-free registration, UNIQUE(bot_name, device_id) and
 *   UNIQUE(bot_name, room_id), is added only when no unique key over those columns exists yet
 *   (UNIQUE(device_id) and PRIMARY KEY(room_id) of old deployments already make the pair
 *   unique) and no duplicate rows would break it; otherwise a plain index serves the lookups;
 * - existing columns, keys and indexes are never altered or dropped.
 * On a database created by 0001 it finds nothing to do.
 */

type ColumnList = readonly (readonly [name: string, type: (t: ColumnTypes) => ColumnType])[];

const v = (length: number) => (): ColumnType => `varchar(${length})`;
const text = (): ColumnType => 'text';
const integer = (): ColumnType => 'integer';
const bigint = (): ColumnType => 'bigint';
const double = (): ColumnType => 'double precision';
const bool = (): ColumnType => 'boolean';
const time = (t: ColumnTypes): ColumnType => t.time;

/** Every column botbridge reads or writes, with the type it gets when it has to be added. */
const KB_COLUMNS: Readonly<Record<string, ColumnList>> = {
  kb_bot_devices: [
    ['bot_name', v(100)], ['device_id', v(255)], ['ip_address', v(64)],
    ['client_type', v(100)], ['client_version', v(50)], ['status', v(20)],
    ['max_message_size', integer], ['approved_at', time], ['rejection_reason', text], ['created_at', time], ['updated_at', time],
  ],
  kb_rooms: [
    ['room_id', v(255)], ['bot_name', v(100)], ['room_name', v(255)],
    ['room_concurrency', integer], ['room_owners', text], ['status', v(20)], ['approved_at', time],
    ['rejection_reason', text], ['description', text], ['log_settings', text], ['created_at', time], ['updated_at', time],
  ],
  kb_chat_logs: [
    ['channel_id', v(64)], ['user_hash', v(128)], ['room_name', v(255)],
    ['sender', v(255)], ['message', (t) => t.longText], ['directive', v(255)],
    ['message_type', v(50)], ['is_meaningful', bool], ['bot_name', v(100)], ['is_mention', bool],
    ['is_group_chat', bool], ['log_id', v(64)], ['client_timestamp', v(64)], ['server_timestamp', time],
    ['is_bot', bool], ['is_our_bot_response', bool], ['is_scheduled', bool], ['created_at', time],
  ],
  kb_ping_monitor: [
    ['bot_name', v(100)], ['device_id', v(255)], ['client_ip', v(64)],
    ['ping_time_ms', integer], ['client_timestamp', bigint], ['server_timestamp', bigint], ['total_memory', double],
    ['memory_usage', double], ['memory_percent', double], ['message_queue_size', integer], ['active_rooms', integer],
    ['created_at', time],
  ],
  kb_system_monitor: [
    ['server_name', v(100)], ['cpu_percent', double], ['memory_total', bigint], ['memory_used', bigint],
    ['memory_percent', double], ['disk_usage_percent', double], ['active_connections', integer],
    ['message_queue_size', integer], ['created_at', time],
  ],
};

async function addMissingColumns(db: Kysely<any>, dialect: SchemaDialect, table: string, columns: ColumnList): Promise<void> {
  const t = dialect.columnTypes;
  const existing = await dialect.readTableColumns(db, table);
  for (const [name, type] of columns) {
    if (existing.has(name)) continue;
    await db.schema.alterTable(table).addColumn(name, type(t)).execute();
  }
}

/** UNIQUE over `columns` when the table has no unique key within them and no duplicates. */
async function ensurePairKey(db: Kysely<any>, dialect: SchemaDialect, table: string, columns: readonly [string, string], name: string): Promise<void> {
  if (hasUniqueKeyWithin(await dialect.readIndexes(db, table), columns)) return;
  const duplicates = await sql<{ n: number }>`select count(*) as n from (
      select ${sql.ref(columns[0])} from ${sql.table(table)} group by ${sql.ref(columns[0])}, ${sql.ref(columns[1])} having count(*) > 1
    ) as d`.execute(db);
  const unique = Number(duplicates.rows[0]?.n ?? 0) === 0;
  await ensureIndex(db, dialect, { name: unique ? name : `${name.replace(/^uq_/, 'idx_')}`, table, columns, unique });
}

export function kbCompat(dialect: SchemaDialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const [table, columns] of Object.entries(KB_COLUMNS)) await addMissingColumns(db, dialect, table, columns);
      await ensurePairKey(db, dialect, 'kb_bot_devices', ['bot_name', 'device_id'], 'uq_kb_bot_devices_bot_device');
      await ensurePairKey(db, dialect, 'kb_rooms', ['bot_name', 'room_id'], 'uq_kb_rooms_bot_room');
      // The approval change feed reads `updated_at >= ?` every few seconds; both tables are small.
      await ensureIndex(db, dialect, { name: 'idx_kb_bot_devices_updated_at', table: 'kb_bot_devices', columns: ['updated_at'] });
      await ensureIndex(db, dialect, { name: 'idx_kb_rooms_updated_at', table: 'kb_rooms', columns: ['updated_at'] });
    },
  };
}
