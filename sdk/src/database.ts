import type { ColumnDataType, Expression, Kysely } from 'kysely';

/**
 * The bridge's own database, for a plugin that keeps tables of its own (the scheduler's
 * kb_schedule). One connection pool for the bridge and its plugins: the plugin's tables live
 * beside the core's, in the same SQLite file or MySQL database, and its queries are written once
 * with Kysely for both dialects. Calls made through `db` bypass the core's store-health tracking:
 * a plugin handles its own errors (log, retry on its next poll).
 */
export interface PluginDatabase {
  /** `sqlite` or `mysql` (MariaDB included). */
  readonly dialect: string;
  /** Kysely on the bridge's store; type it with your tables: `database.db as Kysely<MyTables>`. */
  readonly db: Kysely<any>;
  /**
   * An instant as the database's wall-clock string (`YYYY-MM-DD HH:MM:SS.mmm`): UTC in SQLite,
   * the session time zone in MySQL (`store.timeZone`), so rows compare with those PHP pages and
   * `NOW()` write.
   */
  toDb(date: Date): string;
  /** Reads a timestamp column back; null for null, a zero date or an unreadable value. */
  fromDb(value: unknown): Date | null;
  /**
   * Applies the plugin's pending migrations (name order), recorded in the table
   * `botbridge_migrations_<namespace>`; safe when several processes start at once. Returns the
   * names applied by this call. Rules as for the core's: create only what is missing, never drop
   * or alter an operator's existing columns.
   */
  migrate(namespace: string, migrations: Readonly<Record<string, PluginMigration>>): Promise<string[]>;
}

/** One schema step of a plugin's tables. */
export type PluginMigration = (db: Kysely<any>, schema: PluginSchema) => Promise<void>;

export type PluginColumnType = ColumnDataType | Expression<unknown>;

/** What differs between the dialects when a plugin creates its tables. */
export interface PluginSchema {
  readonly dialect: string;
  readonly types: {
    /** Auto-increment primary key. */
    readonly id: PluginColumnType;
    /** A timestamp as `toDb` writes it (TEXT in SQLite, DATETIME(3) in MySQL). */
    readonly time: PluginColumnType;
    /** Text up to 65,000 characters. */
    readonly longText: PluginColumnType;
  };
  /** Append to a CREATE TABLE with `.modifyEnd(schema.tableOptions)` (InnoDB, utf8mb4 on MySQL). */
  readonly tableOptions: Expression<unknown>;
  /** Column name -> lower-case data type; empty when the table does not exist. */
  tableColumns(table: string): Promise<Map<string, string>>;
  /** Creates an index unless one with this name, or one serving the same leading columns, exists. */
  ensureIndex(spec: { readonly name: string; readonly table: string; readonly columns: readonly string[]; readonly unique?: boolean }): Promise<boolean>;
}
