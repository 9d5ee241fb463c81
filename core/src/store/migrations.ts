import { Migrator } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { BridgeError, reasonOf } from '../errors.js';
import type { SchemaDialect } from './dialects/dialect.js';
import { kbCompat } from './migration-compat.js';
import { ensureIndex } from './migration-helpers.js';
import { journalTable } from './migration-journal.js';
import { journalOwnerColumns } from './migration-journal-owner.js';
import { outboxTable } from './migration-outbox.js';
import { pushKeysTable } from './migration-push-keys.js';
import { outboxOwnerColumn } from './migration-outbox-owner.js';

/**
 * Schema migrations, in code (no migration folder to ship). Rules for every migration here:
 * - create with `ifNotExists` (tables and indexes): operators' MySQL databases already hold kb_*
 *   tables written by the old server and its PHP admin, and a migration must leave them be;
 * - never drop or rewrite data, never change an existing column or key;
 * - column types, table options and schema lookups come from the dialect (`SchemaDialect` in
 *   dialects/dialect.ts); they are the only dialect-specific part.
 */

export const MIGRATION_TABLE = 'botbridge_migrations';
export const MIGRATION_LOCK_TABLE = 'botbridge_migrations_lock';

function kbTables(dialect: SchemaDialect): Migration {
  const t = dialect.columnTypes;
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Log tables of an old deployment can hold millions of rows: indexes botbridge merely
      // likes are built only on tables created here, never at the first start on operator data.
      const existed = new Set<string>();
      for (const table of ['kb_chat_logs', 'kb_ping_monitor', 'kb_system_monitor']) {
        if ((await dialect.readTableColumns(db, table)).size > 0) existed.add(table);
      }
      const fresh = (table: string) => !existed.has(table);
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
        .modifyEnd(dialect.tableOptions)
        .execute();
      await ensureIndex(db, dialect, { name: 'idx_kb_bot_devices_updated_at', table: 'kb_bot_devices', columns: ['updated_at'] });

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
        .modifyEnd(dialect.tableOptions)
        .execute();
      await ensureIndex(db, dialect, { name: 'idx_kb_rooms_updated_at', table: 'kb_rooms', columns: ['updated_at'] });

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
        .modifyEnd(dialect.tableOptions)
        .execute();
      if (fresh('kb_chat_logs')) {
        await ensureIndex(db, dialect, { name: 'idx_kb_chat_logs_bot_channel_log', table: 'kb_chat_logs', columns: ['bot_name', 'channel_id', 'log_id'] });
      }

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
        .modifyEnd(dialect.tableOptions)
        .execute();
      if (fresh('kb_ping_monitor')) {
        await ensureIndex(db, dialect, { name: 'idx_kb_ping_monitor_bot_created', table: 'kb_ping_monitor', columns: ['bot_name', 'created_at'] });
      }

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
        .modifyEnd(dialect.tableOptions)
        .execute();
      if (fresh('kb_system_monitor')) {
        await ensureIndex(db, dialect, { name: 'idx_kb_system_monitor_created', table: 'kb_system_monitor', columns: ['created_at'] });
      }
    },
  };
}

/** Names sort in application order; never rename or edit a released migration, add a new one. */
function migrationsFor(dialect: SchemaDialect): Record<string, Migration> {
  return {
    '0001_kb_tables': kbTables(dialect), '0002_kb_compat': kbCompat(dialect), '0003_journal': journalTable(dialect),
    '0004_outbox': outboxTable(dialect), '0005_journal_owner': journalOwnerColumns(dialect),
    '0006_outbox_owner': outboxOwnerColumn(dialect),
    '0007_push_keys': pushKeysTable(dialect),
  };
}

/** A set of migrations and the table that records them (the core's, or one plugin's: plugin-database.ts). */
export interface MigrationSet {
  readonly table: string;
  readonly lockTable: string;
  readonly migrations: (dialect: SchemaDialect) => Record<string, Migration>;
}

const CORE_MIGRATIONS: MigrationSet = { table: MIGRATION_TABLE, lockTable: MIGRATION_LOCK_TABLE, migrations: migrationsFor };

export function createMigrator(db: Kysely<any>, dialect: SchemaDialect, set: MigrationSet = CORE_MIGRATIONS): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => set.migrations(dialect) };
  return new Migrator({ db, provider, migrationTableName: set.table, migrationLockTableName: set.lockTable });
}

/** Names of migrations not yet applied to this database. */
export async function pendingMigrations(db: Kysely<any>, dialect: SchemaDialect, set: MigrationSet = CORE_MIGRATIONS): Promise<string[]> {
  const all = await createMigrator(db, dialect, set).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/**
 * Applies pending migrations; returns the names applied by this call (empty when up to date).
 *
 * Two processes may migrate one database at once (the CLI and the server starting together on a
 * fresh SQLite file; Kysely's SQLite adapter takes no cross-process lock, its MySQL adapter uses
 * GET_LOCK). The loser fails inside its transaction (SQLITE_BUSY, or the migration row already
 * inserted), which rolled back: when the schema is up to date after all, that is success; when
 * the winner is still applying a later migration, the loser tries again (every migration here
 * is idempotent: it looks before it creates).
 */
export async function migrateToLatest(db: Kysely<any>, dialect: SchemaDialect, set: MigrationSet = CORE_MIGRATIONS): Promise<string[]> {
  for (let attempt = 1; ; attempt += 1) {
    const { error, results = [] } = await createMigrator(db, dialect, set).migrateToLatest();
    if (error === undefined) return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    const pending = await pendingMigrations(db, dialect, set).catch(() => undefined);
    if (pending?.length === 0) return [];
    if (pending !== undefined && attempt < MIGRATE_ATTEMPTS) {
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      continue;
    }
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const reason = failed === undefined ? `migration failed: ${reasonOf(error)}` : `migration ${failed} failed: ${reasonOf(error)}`;
    throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason }, { cause: error });
  }
}

const MIGRATE_ATTEMPTS = 3;
