import type { CoreEventName, EventInput } from '@botbridge/sdk';
import type { CounterName } from '../metrics/counters.js';

/** The counter increment a fact feeds: counter, label, amount (default 1). */
export type CounterFeed = readonly [counter: CounterName, label?: string, by?: number];
/** One increment, or several for a fact counted under two counters (a rejected reply: its status and its reason). */
export type CounterFeeds = CounterFeed | readonly CounterFeed[];

/**
 * Which counter each fact feeds, computed from its payload. The EventBus applies it on every
 * publish, subscribers or not, so a fact is counted where it is published and nowhere else.
 * Kept in core (not in the sdk's extension table) because counters and their Prometheus names
 * are the core's business, not a plugin author's.
 */
type FactCounters = { readonly [K in CoreEventName]?: (event: EventInput<K>) => CounterFeeds };

export const FACT_COUNTERS: FactCounters = Object.freeze<FactCounters>({
  'connection:open': () => ['connections', 'accepted'],
  'connection:refused': (e) => ['connections', e.reason],
  'connection:handshake': (e) => ['handshakes', e.result],
  'connection:close': (e) => ['disconnects', e.reason],
  ping: () => ['pings_answered'],
  'message:admitted': () => ['messages', 'admitted'],
  'message:injected': () => ['messages', 'injected'],
  'message:dropped': (e) => [e.reason === 'empty_text' || e.reason === 'text_too_long' ? 'messages_rejected' : 'dedup_drops', e.reason],
  'message:routed': (e) => ['messages', e.result],
  'message:failed': (e) => ['jobs', e.result, e.count],
  'queue:saturation': (e) => ['queue_saturation', e.transition],
  'reply:result': (e) => (e.reason === null ? ['replies', e.status] : [['replies', e.status], ['replies_rejected', e.reason]]),
  'reply:governed': (e) => ['governor', e.reason ?? e.outcome],
  'plugin:error': (e) => ['plugin_errors', `${e.plugin}:${e.hook}`],
  'store:health': (e) => ['store_health', e.state],
  'store:error': (e) => ['store_errors', e.operation],
  'store:write-dropped': (e) => ['store_writes_dropped', e.table, e.rows],
  'store:write-saturation': (e) => ['store_write_saturation', e.transition],
  'journal:commit': (e) => [['journal_commits'], ['journal_rows', 'admitted', e.admitted], ['journal_rows', 'done', e.done]],
  'journal:error': () => ['journal_errors'],
  'journal:dropped': (e) => ['journal_dropped', e.reason, e.entries],
  'journal:replay': (e) => ['journal_replay', e.result, e.rows],
  'store:rows-written': (e) => ['store_rows_written', e.table, e.rows],
  'store:rows-rejected': (e) => ['store_rows_rejected', e.table, e.rows],
  'store:retention-deleted': (e) => ['retention_deleted', e.table, e.rows],
});
