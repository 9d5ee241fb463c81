/**
 * Every in-process counter of the bridge, declared once: its Prometheus metric, help text and
 * label names. `CounterName` comes from this table, so a misspelled counter is a type error;
 * the Prometheus exporter derives its metrics from it. Adding a counter is a row here plus,
 * for a fact, its feed in `FACT_COUNTERS` (events/fact-counters.ts).
 *
 * Most counters are fed by the facts the bridge publishes, so a fact is counted once, where it
 * is published. The wire tallies (packets_in/out/dropped, bad_lines, auth_failures,
 * pings_ignored, http_auth_failures) stay typed direct increments where the bytes are: they
 * count packets and lines, not bridge facts; nobody subscribes to them one by one; they run per
 * packet on the hottest path (a fact would add a payload object per packet); and a line that
 * fails framing or auth must not reach plugins as an event it could be tricked into trusting.
 */
export const COUNTERS = Object.freeze({
  connections: { metric: 'botbridge_connections_total', help: 'TCP connections accepted, or refused at accept by a cap.', labels: ['result'] },
  handshakes: { metric: 'botbridge_handshakes_total', help: 'Handshakes decided, by result.', labels: ['result'] },
  disconnects: { metric: 'botbridge_disconnects_total', help: 'Connections closed, by reason (an error code or client-closed).', labels: ['reason'] },
  packets_in: { metric: 'botbridge_packets_in_total', help: 'Packets received from bridge scripts, by event.', labels: ['event'] },
  packets_out: { metric: 'botbridge_packets_out_total', help: 'Packets written to bridge scripts, by event.', labels: ['event'] },
  packets_dropped: { metric: 'botbridge_packets_dropped_total', help: 'Packets dropped after the handshake, by reason.', labels: ['reason'] },
  bad_lines: { metric: 'botbridge_bad_lines_total', help: 'Lines that failed framing or JSON checks, by error code.', labels: ['code'] },
  connections_throttled: { metric: 'botbridge_connections_throttled_total', help: 'Times a connection went over its byte or message rate and had its reading paused, by kind.', labels: ['kind'] },
  rejected_lines: { metric: 'botbridge_rejected_lines_total', help: 'Lines rejected after the handshake and counted towards limits.maxRejectedLines, by reason.', labels: ['reason'] },
  bans: { metric: 'botbridge_bans_total', help: 'Temporary bans imposed on the bot port, by kind (device, address).', labels: ['kind'] },
  bans_refused: { metric: 'botbridge_bans_refused_total', help: 'Connections refused or closed because of a ban, by kind.', labels: ['kind'] },
  auth_failures: { metric: 'botbridge_auth_failures_total', help: 'Packets failing the HMAC auth check, by error code.', labels: ['reason'] },
  dedup_drops: { metric: 'botbridge_dedup_drops_total', help: 'Chat lines dropped as duplicates, by rule.', labels: ['reason'] },
  messages: { metric: 'botbridge_messages_total', help: 'Chat lines by pipeline stage (admitted, dispatched, not approved, injected).', labels: ['stage'] },
  messages_rejected: { metric: 'botbridge_messages_rejected_total', help: 'Chat lines refused at admission, by reason.', labels: ['reason'] },
  jobs: { metric: 'botbridge_jobs_total', help: 'Message jobs that did not end normally, by result.', labels: ['result'] },
  replies: { metric: 'botbridge_replies_total', help: 'Reply results by status: written, queued, expired, dropped (beforeReply), rejected.', labels: ['result'] },
  replies_rejected: { metric: 'botbridge_replies_rejected_total', help: 'Rejected replies by reason (too_long, invalid, no_client, device_not_approved, queue_full, daily_cap).', labels: ['reason'] },
  governor: { metric: 'botbridge_governor_sends_total', help: 'Proactive sends decided by the send governor: sent, or rejected by reason (queue_full, daily_cap).', labels: ['result'] },
  // The label is `plugin:hook`; the exporter splits it at the last ':' (hook names have none).
  plugin_errors: { metric: 'botbridge_plugin_errors_total', help: 'Plugin handlers that threw or missed their deadline.', labels: ['plugin', 'hook'] },
  pings_answered: { metric: 'botbridge_pings_answered_total', help: 'Ping round trips completed.', labels: [] },
  pings_skipped: { metric: 'botbridge_pings_skipped_total', help: 'Pings not sent because reading from the client was paused (its answer could not be read).', labels: ['reason'] },
  pings_ignored: { metric: 'botbridge_pings_ignored_total', help: 'Ping answers ignored, by reason.', labels: ['reason'] },
  queue_saturation: { metric: 'botbridge_queue_saturation_total', help: 'Times the queue paused or resumed reading.', labels: ['transition'] },
  store_health: { metric: 'botbridge_store_health_changes_total', help: 'Store health transitions, by new state.', labels: ['state'] },
  store_errors: { metric: 'botbridge_store_errors_total', help: 'Store operations that failed, by operation.', labels: ['operation'] },
  store_rows_written: { metric: 'botbridge_store_rows_written_total', help: 'Rows written by the batch writers, by table.', labels: ['table'] },
  store_rows_rejected: { metric: 'botbridge_store_rows_rejected_total', help: 'Rows the store refused one by one after a failed batch, by table.', labels: ['table'] },
  store_writes_dropped: { metric: 'botbridge_store_writes_dropped_total', help: 'Rows dropped (store down past the spill bound, or refused by the store), by table.', labels: ['table'] },
  store_write_saturation: { metric: 'botbridge_store_write_saturation_total', help: 'Times a store writer paused or resumed reading (the store was behind).', labels: ['transition'] },
  retention_deleted: { metric: 'botbridge_retention_deleted_total', help: 'Rows deleted by the retention sweep, by table.', labels: ['table'] },
  journal_commits: { metric: 'botbridge_journal_commits_total', help: 'Journal group commits (one transaction each).', labels: [] },
  journal_rows: { metric: 'botbridge_journal_rows_total', help: 'Journal rows written, by kind (admitted, done).', labels: ['kind'] },
  journal_errors: { metric: 'botbridge_journal_errors_total', help: 'Journal commits that failed (retried).', labels: [] },
  journal_dropped: { metric: 'botbridge_journal_dropped_total', help: 'Journal entries dropped while the store was down past journal.bufferLimit.', labels: ['reason'] },
  journal_replay: { metric: 'botbridge_journal_replay_total', help: 'Journal rows at start: replayed, expired (too old), or not replayed (no phone); adopted from a dead cluster node, already_done: adopted rows the dead node had answered (its done notice), marked done instead of replayed, and restored: the dead node\'s uncommitted admissions written into the journal from its admission notices before the adoption.', labels: ['result'] },
  // Cluster coordination tallies (hops, takeovers, approval events): direct increments in
  // cluster/cluster-link.ts, like the wire tallies; single-node mode never touches them.
  cluster: { metric: 'botbridge_cluster_events_total', help: 'Cluster mode: reply hops (hop_written, hop_queued, hop_rejected, hop_no_client, hop_no_responders, hop_failed, hop_served), takeovers, devices lost to another node, approval events, holder_gone (a handshake found the device\'s previous node gone), outbox_already_delivered (an adopted outbox row the dead node had delivered: its done notice), admission_expired / admission_evicted (another node\'s admission notices forgotten unanswered past the window or the per-node cap).', labels: ['event'] },
  http_auth_failures: { metric: 'botbridge_http_auth_failures_total', help: 'Admin HTTP requests with a wrong or stale credential, by reason.', labels: ['reason'] },
} as const satisfies Record<string, CounterSpec>);

export interface CounterSpec {
  readonly metric: string;
  readonly help: string;
  readonly labels: readonly string[];
}

export type CounterName = keyof typeof COUNTERS;

/**
 * In-process counters, labelled by a short reason. Cheap enough for the hot path: two Map
 * lookups by the name and the label as given. Values are kept per name, then per label, rather
 * than under a built `name{label}` key: building that string and hashing it afresh (twice) cost
 * several times the increment (bench/micro/event-guards.ts). The Prometheus exporter reads
 * them; tests and the admin API read `snapshot()`.
 */
export class Counters {
  /** Per counter, per label (`undefined`: the counter has no label). */
  private readonly values = new Map<CounterName, Map<string | undefined, number>>();

  inc(name: CounterName, label?: string, by = 1): void {
    let labels = this.values.get(name);
    if (labels === undefined) {
      labels = new Map();
      this.values.set(name, labels);
    }
    labels.set(label, (labels.get(label) ?? 0) + by);
  }

  get(name: CounterName, label?: string): number {
    return this.values.get(name)?.get(label) ?? 0;
  }

  /** Sum over every label of a counter. */
  total(name: CounterName): number {
    let sum = 0;
    for (const value of this.values.get(name)?.values() ?? []) sum += value;
    return sum;
  }

  /** Every value under its `name` or `name{label}` key. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, labels] of this.values) {
      for (const [label, value] of labels) out[label === undefined ? name : `${name}{${label}}`] = value;
    }
    return out;
  }
}
