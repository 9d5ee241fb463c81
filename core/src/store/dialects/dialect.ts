import type { Expression, Kysely } from 'kysely';
import type { ColumnTypes } from '../migration-helpers.js';
import type { StoreOpenOptions } from '../open-store.js';
import type { IndexShape } from '../schema-inspect.js';
import type { StoreConnection } from '../sql-store.js';
import type { TestDatabase } from '../test-database.js';

/**
 * Everything that differs between the databases botbridge stores in, as one object per dialect
 * (`dialects/sqlite.ts`, `dialects/mysql.ts`), chosen by store URL in `dialects/registry.ts`.
 * The queries themselves are not here: `sql-store.ts` and `monitor-writes.ts` write them once
 * against Kysely, and the migrations ask the dialect only for what they cannot say portably.
 */

/** What a dialect's URL parses to; `kind` is the dialect's name. */
export interface DialectTarget {
  readonly kind: string;
}

/** The part of a dialect the migrations and the layout detection see. */
export interface SchemaDialect {
  /** Also `Store.dialect`, in logs and tests. */
  readonly name: string;
  readonly columnTypes: ColumnTypes;
  /** Appended to every CREATE TABLE botbridge runs. */
  readonly tableOptions: Expression<unknown>;
  /**
   * Whether `CREATE INDEX IF NOT EXISTS` exists (MySQL 8 has none; ensureIndex looks first
   * anyway, and uses it when it can to survive two processes migrating at once).
   */
  readonly createIndexIfNotExists: boolean;
  /** Column name -> lower-case data type of one table; empty when the table does not exist. */
  readTableColumns(db: Kysely<any>, table: string): Promise<Map<string, string>>;
  /** Every index of one table, key columns in index order. */
  readIndexes(db: Kysely<any>, table: string): Promise<IndexShape[]>;
}

export interface Dialect<T extends DialectTarget = DialectTarget> extends SchemaDialect {
  readonly name: T['kind'];
  /** How its URLs look, for the error that lists the accepted forms. */
  readonly urlForm: string;
  /** Whether the (trimmed) store URL names this dialect: a scheme test, no validation. */
  recognises(url: string): boolean;
  /** Validates a URL this dialect recognises; throws BRIDGE_ERR_STORE_URL (password redacted). */
  parseUrl(url: string, cwd: string): T;
  /** Opens the connection(s); the caller wraps them in a SqlStore and migrates. */
  open(target: T, options: StoreOpenOptions): Promise<StoreConnection>;
  /**
   * Classifies an error thrown by this dialect's driver: true when the database could not be
   * reached or did not answer (retry later), false when it refused the statement; undefined
   * when the error is not this driver's (see store-errors.ts).
   */
  isUnavailable(error: object): boolean | undefined;
  /** Test support: a fresh, empty database on the server the URL names. Absent: not supported. */
  createTestDatabase?(target: T, url: string): Promise<TestDatabase>;
}
