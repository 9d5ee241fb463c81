import type { Kysely, Migration } from 'kysely';
import type { PluginDatabase, PluginMigration, PluginSchema } from '@botbridge/sdk';
import { BridgeError } from '../errors.js';
import type { DbClock } from './db-time.js';
import type { SchemaDialect } from './dialects/dialect.js';
import { ensureIndex } from './migration-helpers.js';
import { migrateToLatest } from './migrations.js';

const NAMESPACE = /^[a-z][a-z0-9_]{0,40}$/;

/**
 * `ctx.bridge.database()`: the store's Kysely instance and clock for a plugin's own tables, and
 * a migration runner whose record is one table per plugin (`botbridge_migrations_<namespace>`),
 * so a plugin's migrations never mix with the core's (Kysely refuses a record that names
 * migrations it was not given). Same rules and the same concurrent-start retry as the core's.
 */
export function pluginDatabase(db: Kysely<any>, dialect: SchemaDialect, clock: DbClock): PluginDatabase {
  // Bound to the migration's transaction: SQLite has one connection, so a lookup through the
  // outer instance would wait for the transaction that waits for it.
  const schemaOf = (tx: Kysely<any>): PluginSchema => ({
    dialect: dialect.name,
    types: dialect.columnTypes,
    tableOptions: dialect.tableOptions,
    tableColumns: (table) => dialect.readTableColumns(tx, table),
    ensureIndex: (spec) => ensureIndex(tx, dialect, spec),
  });
  return {
    dialect: dialect.name,
    db,
    toDb: (date) => clock.toDb(date),
    fromDb: (value) => (value === null || value === undefined || typeof value === 'string' || value instanceof Date ? clock.fromDb(value) : null),
    async migrate(namespace: string, migrations: Readonly<Record<string, PluginMigration>>): Promise<string[]> {
      if (!NAMESPACE.test(namespace)) {
        throw new BridgeError('BRIDGE_ERR_STORE_UNAVAILABLE', { reason: `plugin migration namespace ${JSON.stringify(namespace)}: expected lowercase letters, digits and _` });
      }
      const wrapped: Record<string, Migration> = {};
      for (const [name, up] of Object.entries(migrations)) wrapped[name] = { up: (tx: Kysely<any>) => up(tx, schemaOf(tx)) };
      return migrateToLatest(db, dialect, {
        table: `botbridge_migrations_${namespace}`,
        lockTable: `botbridge_migrations_${namespace}_lock`,
        migrations: () => wrapped,
      });
    },
  };
}
