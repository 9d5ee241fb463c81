import { Counter, type Registry } from 'prom-client';
import type { CounterReader } from '../admin/bridge-admin.js';

/**
 * Prometheus counters mirrored from the bridge's in-process `Counters` at scrape time, so the
 * hot path keeps its one Map increment and pays nothing for Prometheus. Each in-process counter
 * `name{label}` becomes `<metric>{<labelName>="label"}`; the table names the label of each.
 */
interface Mirror {
  readonly counter: string;
  readonly metric: string;
  readonly help: string;
  /** Label names; `plugin_errors` carries `plugin:hook` and is split in two. */
  readonly labels: readonly string[];
}

const MIRRORS: readonly Mirror[] = [
  { counter: 'connections', metric: 'botbridge_connections_total', help: 'TCP connections accepted, or refused at accept by a cap.', labels: ['result'] },
  { counter: 'handshakes', metric: 'botbridge_handshakes_total', help: 'Handshakes decided, by result.', labels: ['result'] },
  { counter: 'disconnects', metric: 'botbridge_disconnects_total', help: 'Connections closed, by reason (an error code or client-closed).', labels: ['reason'] },
  { counter: 'packets_in', metric: 'botbridge_packets_in_total', help: 'Packets received from bridge scripts, by event.', labels: ['event'] },
  { counter: 'packets_out', metric: 'botbridge_packets_out_total', help: 'Packets written to bridge scripts, by event.', labels: ['event'] },
  { counter: 'packets_dropped', metric: 'botbridge_packets_dropped_total', help: 'Packets dropped after the handshake, by reason.', labels: ['reason'] },
  { counter: 'bad_lines', metric: 'botbridge_bad_lines_total', help: 'Lines that failed framing or JSON checks, by error code.', labels: ['code'] },
  { counter: 'auth_failures', metric: 'botbridge_auth_failures_total', help: 'Packets failing the HMAC auth check, by error code.', labels: ['reason'] },
  { counter: 'dedup_drops', metric: 'botbridge_dedup_drops_total', help: 'Chat lines dropped as duplicates, by rule.', labels: ['reason'] },
  { counter: 'messages', metric: 'botbridge_messages_total', help: 'Chat lines by pipeline stage (admitted, dispatched, not approved, injected).', labels: ['stage'] },
  { counter: 'messages_rejected', metric: 'botbridge_messages_rejected_total', help: 'Chat lines refused at admission, by reason.', labels: ['reason'] },
  { counter: 'jobs', metric: 'botbridge_jobs_total', help: 'Message jobs that did not end normally, by result.', labels: ['result'] },
  { counter: 'replies', metric: 'botbridge_replies_total', help: 'Reply results by status: written, queued, expired, dropped (beforeReply), rejected.', labels: ['result'] },
  { counter: 'replies_rejected', metric: 'botbridge_replies_rejected_total', help: 'Rejected replies by reason (too_long, invalid, no_client, device_not_approved).', labels: ['reason'] },
  { counter: 'plugin_errors', metric: 'botbridge_plugin_errors_total', help: 'Plugin handlers that threw or missed their deadline.', labels: ['plugin', 'hook'] },
  { counter: 'pings_answered', metric: 'botbridge_pings_answered_total', help: 'Ping round trips completed.', labels: [] },
  { counter: 'pings_ignored', metric: 'botbridge_pings_ignored_total', help: 'Ping answers ignored, by reason.', labels: ['reason'] },
  { counter: 'pings_skipped', metric: 'botbridge_pings_skipped_total', help: 'Pings not sent because reading from the client was paused (its answer could not be read).', labels: ['reason'] },
  { counter: 'queue_saturation', metric: 'botbridge_queue_saturation_total', help: 'Times the queue paused or resumed reading.', labels: ['transition'] },
  { counter: 'store_errors', metric: 'botbridge_store_errors_total', help: 'Store operations that failed, by operation.', labels: ['operation'] },
  { counter: 'store_rows_written', metric: 'botbridge_store_rows_written_total', help: 'Rows written by the batch writers, by table.', labels: ['table'] },
  { counter: 'http_auth_failures', metric: 'botbridge_http_auth_failures_total', help: 'Admin HTTP requests with a wrong or stale credential, by reason.', labels: ['reason'] },
  { counter: 'store_writes_dropped', metric: 'botbridge_store_writes_dropped_total', help: 'Rows dropped (store down past the spill bound, or refused by the store), by table.', labels: ['table'] },
  { counter: 'store_write_saturation', metric: 'botbridge_store_write_saturation_total', help: 'Times a store writer paused or resumed reading (the store was behind).', labels: ['transition'] },
];

/** Counters the table does not know yet still reach Prometheus, under their own name. */
const FALLBACK = { metric: 'botbridge_counter_total', help: 'In-process counters without a dedicated metric.', labels: ['counter', 'label'] } as const;

interface Entry {
  readonly name: string;
  readonly label: string | undefined;
  readonly value: number;
}

function entries(counters: CounterReader): Entry[] {
  const out: Entry[] = [];
  for (const [key, value] of Object.entries(counters.snapshot())) {
    const open = key.indexOf('{');
    if (open < 0) out.push({ name: key, label: undefined, value });
    else out.push({ name: key.slice(0, open), label: key.slice(open + 1, -1), value });
  }
  return out;
}

function labelsOf(mirror: Mirror, label: string | undefined): Record<string, string> {
  if (mirror.labels.length === 0) return {};
  if (mirror.labels.length === 1) return { [mirror.labels[0]!]: label ?? '' };
  // plugin_errors{plugin:hook}: hook names never contain ':', plugin names might.
  const text = label ?? '';
  const cut = text.lastIndexOf(':');
  return cut < 0 ? { plugin: text, hook: '' } : { plugin: text.slice(0, cut), hook: text.slice(cut + 1) };
}

export function registerCounterMetrics(registry: Registry, counters: CounterReader): void {
  const known = new Set(MIRRORS.map((m) => m.counter));
  for (const mirror of MIRRORS) {
    new Counter({
      name: mirror.metric,
      help: mirror.help,
      labelNames: mirror.labels,
      registers: [registry],
      collect() {
        this.reset();
        for (const entry of entries(counters)) {
          if (entry.name === mirror.counter) this.inc(labelsOf(mirror, entry.label), entry.value);
        }
      },
    });
  }
  new Counter({
    name: FALLBACK.metric,
    help: FALLBACK.help,
    labelNames: FALLBACK.labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const entry of entries(counters)) {
        if (!known.has(entry.name)) this.inc({ counter: entry.name, label: entry.label ?? '' }, entry.value);
      }
    },
  });
}
