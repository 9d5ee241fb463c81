import { Migrator, sql } from 'kysely';
import type { ColumnDataType, Expression, Kysely, Migration, MigrationProvider } from 'kysely';
import { BridgeError, reasonOf } from '../errors.js';
import type { StoreDialect } from './schema.js';

/**
 * Schema migrations, in code (no migration folder to ship). Rules for every migration here:
 * - create with `ifNotExists` (tables and indexes): operators' MySQL databases already hold kb_*
 *   tables written by the old server and its PHP admin, and a migration must leave them be;
 * - never drop or rewrite data;
 * - column types come from `columnTypes(dialect)`, the only dialect-specific part.
 */

export const MIGRATION_TABLE = 'botbridge_migrations';
export const MIGRATION_LOCK_TABLE = 'botbridge_migrations_lock';

type ColumnType = ColumnDataType | Expression<unknown>;

interface ColumnTypes {
  /** Auto-increment primary key (SQLite only allows AUTOINCREMENT on INTEGER). */
  readonly id: ColumnType;
  /** See db-time.ts: TEXT in SQLite, DATETIME(3) in MySQL. */
  readonly time: ColumnType;
  /** Chat text up to 65,000 UTF-16 units: MySQL TEXT (64 KiB) is too small in utf8mb4. */
  readonly longText: ColumnType;
}

function columnTypes(dialect: StoreDialect): ColumnTypes {
  if (dialect === 'mysql') return { id: 'bigint', time: 'datetime(3)', longText: sql`mediumtext` };
  return { id: 'integer', time: 'text', longText: 'text' };
}

/**
 * `CREATE INDEX IF NOT EXISTS` exists in SQLite and MariaDB but not in MySQL 8, so on MySQL the
 * index is looked up in information_schema first. Index names are unique per database in SQLite.
 */
async function createIndexIfMissing(
  db: Kysely<any>,
  dialect: StoreDialect,
  name: string,
  table: string,
  columns: readonly string[],
): Promise<void> {
  if (dialect === 'mysql') {
    const found = await sql<{ n: number }>`select count(*) as n from information_schema.statistics
      where table_schema = database() and table_name = ${table} and index_name = ${name}`.execute(db);
    if (Number(found.rows[0]?.n ?? 0) > 0) return;
    await db.schema.createIndex(name).on(table).columns([...columns]).execute();
    return;
  }
  await db.schema.createIndex(name).ifNotExists().on(table).columns([...columns]).execute();
}

function kbTables(dialect: StoreDialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createTable('kb_bot_devices').ifNotExists()
        .addColumn('id', t.id, (c) => c.primaryKey().autoIncrement())
        .addColumn('bot_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('device_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('ip_address', 'varchar(64)')
        .addColumn('client_type', 'varchar(100)')
        .addColumn('client_version', 'varchar(50)')
        .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending'))
        .addColumn('max_message_size', 'integer')
        .addColumn('approved_at', t.time)
        .addColumn('rejection_reason', 'text')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .addUniqueConstraint('uq_kb_bot_devices_bot_device', ['bot_name', 'device_id'])
        .execute();
      await createIndexIfMissing(db, dialect, 'idx_kb_bot_devices_updated_at', 'kb_bot_devices', ['updated_at']);

      await db.schema.createTable('kb_rooms').ifNotExists()
        .addColumn('id', t.id, (c) => c.primaryKey().autoIncrement())
        .addColumn('room_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('bot_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('room_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('room_concurrency', 'integer')
        .addColumn('room_owners', 'text')
        .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending'))
        .addColumn('approved_at', t.time)
        .addColumn('rejection_reason', 'text')
        .addColumn('description', 'text')
        .addColumn('log_settings', 'text')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .addUniqueConstraint('uq_kb_rooms_bot_room', ['bot_name', 'room_id'])
        .execute();
      await createIndexIfMissing(db, dialect, 'idx_kb_rooms_updated_at', 'kb_rooms', ['updated_at']);

      await db.schema.createTable('kb_chat_logs').ifNotExists()
        .addColumn('id', t.id, (c) => c.primaryKey().autoIncrement())
        .addColumn('channel_id', 'varchar(64)')
        .addColumn('user_hash', 'varchar(128)')
        .addColumn('room_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('sender', 'varchar(255)', (c) => c.notNull())
        .addColumn('message', t.longText, (c) => c.notNull())
        .addColumn('directive', 'varchar(255)')
        .addColumn('message_type', 'varchar(50)', (c) => c.notNull())
        .addColumn('is_meaningful', 'boolean', (c) => c.notNull().defaultTo(0))
        .addColumn('bot_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('is_mention', 'boolean', (c) => c.notNull().defaultTo(0))
        .addColumn('is_group_chat', 'boolean', (c) => c.notNull().defaultTo(0))
        .addColumn('log_id', 'varchar(64)')
        .addColumn('client_timestamp', 'varchar(64)')
        .addColumn('server_timestamp', t.time, (c) => c.notNull())
        .addColumn('is_bot', 'boolean', (c) => c.notNull().defaultTo(0))
        .addColumn('is_our_bot_response', 'boolean', (c) => c.notNull().defaultTo(0))
        .addColumn('is_scheduled', 'boolean', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await createIndexIfMissing(db, dialect, 'idx_kb_chat_logs_bot_channel_log', 'kb_chat_logs', ['bot_name', 'channel_id', 'log_id']);

      await db.schema.createTable('kb_ping_monitor').ifNotExists()
        .addColumn('id', t.id, (c) => c.primaryKey().autoIncrement())
        .addColumn('bot_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('device_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('client_ip', 'varchar(64)', (c) => c.notNull())
        .addColumn('ping_time_ms', 'integer', (c) => c.notNull())
        .addColumn('client_timestamp', 'bigint', (c) => c.notNull())
        .addColumn('server_timestamp', 'bigint', (c) => c.notNull())
        .addColumn('total_memory', 'double precision')
        .addColumn('memory_usage', 'double precision')
        .addColumn('memory_percent', 'double precision')
        .addColumn('message_queue_size', 'integer')
        .addColumn('active_rooms', 'integer')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await createIndexIfMissing(db, dialect, 'idx_kb_ping_monitor_bot_created', 'kb_ping_monitor', ['bot_name', 'created_at']);

      await db.schema.createTable('kb_system_monitor').ifNotExists()
        .addColumn('id', t.id, (c) => c.primaryKey().autoIncrement())
        .addColumn('server_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('cpu_percent', 'double precision')
        .addColumn('memory_total', 'bigint')
        .addColumn('memory_used', 'bigint')
        .addColumn('memory_percent', 'double precision')
        .addColumn('disk_usage_percent', 'double precision')
        .addColumn('active_connections', 'integer')
        .addColumn('message_queue_size', 'integer')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await createIndexIfMissing(db, dialect, 'idx_kb_system_monitor_created', 'kb_system_monitor', ['created_at']);
    },
  };
}

/** Names sort in application order; never rename or edit a released migration, add a new one. */
function migrationsFor(dialect: StoreDialect): Record<string, Migration> {
  return { '0001_kb_tables': kbTables(dialect) };
}

export function createMigrator(db: Kysely<any>, dialect: StoreDialect): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(dialect) };
  return new Migrator({ db, provider, migrationTableName: MIGRATION_TABLE, migrationLockTableName: MIGRATION_LOCK_TABLE });
}

/** Names of migrations not yet applied to this database. */
export async function pendingMigrations(db: Kysely<any>, dialect: StoreDialect): Promise<string[]> {
  const all = await createMigrator(db, dialect).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/**
 * Applies pending migrations; returns the names applied by this call (empty when up to date).
 *
 * Two processes may migrate one database at once (the CLI and the server starting together on a
 * fresh SQLite file; Kysely's SQLite adapter takes no cross-process lock, its MySQL adapter uses
 * GET_LOCK). The loser fails inside its transaction (SQLITE_BUSY, or the migration row already
 * inserted), which rolled back: when the schema is up to date after all, that is success.
 */
export async function migrateToLatest(db: Kysely<any>, dialect: StoreDialect): Promise<string[]> {
  const { error, results = [] } = await createMigrator(db, dialect).migrateToLatest();
  if (error !== undefined) {
    const upToDate = await pendingMigrations(db, dialect).then((p) => p.length === 0, () => false);
    if (upToDate) return [];
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const reason = failed === undefined ? `migration failed: ${reasonOf(error)}` : `migration ${failed} failed: ${reasonOf(error)}`;
    throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason }, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
