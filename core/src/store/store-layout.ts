import type { Kysely } from 'kysely';
import type { SchemaDialect } from './dialects/dialect.js';
import { isDateType } from './schema-inspect.js';

/**
 * Column types of an existing deployment that differ from the ones botbridge creates and that
 * change what a write must send. Detected once after the migrations (migrations never change
 * an existing column, so the answer holds for the store's lifetime).
 */
export interface StoreLayout {
  /** kb_ping_monitor.client_timestamp is DATETIME (the Python server's) rather than epoch ms. */
  readonly pingClientTimeAsDate: boolean;
  /** kb_ping_monitor.server_timestamp is DATETIME rather than epoch ms. */
  readonly pingServerTimeAsDate: boolean;
  /** kb_chat_logs.client_timestamp is DATETIME rather than the phone's text: only a parseable time fits. */
  readonly chatClientTimeAsDate: boolean;
}

/** The layout of tables created by botbridge's own migrations. */
export const OWN_LAYOUT: StoreLayout = { pingClientTimeAsDate: false, pingServerTimeAsDate: false, chatClientTimeAsDate: false };

export async function detectLayout(db: Kysely<any>, dialect: SchemaDialect): Promise<StoreLayout> {
  const pings = await dialect.readTableColumns(db, 'kb_ping_monitor');
  const chat = await dialect.readTableColumns(db, 'kb_chat_logs');
  return {
    pingClientTimeAsDate: isDateType(pings.get('client_timestamp')),
    pingServerTimeAsDate: isDateType(pings.get('server_timestamp')),
    chatClientTimeAsDate: isDateType(chat.get('client_timestamp')),
  };
}
