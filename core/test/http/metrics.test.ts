import { describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { Counter } from 'prom-client';
import { BEARER, eventually, useAdmin, type AdminFixture } from './admin-harness.js';
import { parsePrometheus, value, type Family } from './prometheus-parser.js';

const { start } = useAdmin();

const echo = definePlugin({
  name: 'echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => `에코: ${message.text}`);
  },
});

async function scrape(fixture: AdminFixture): Promise<Map<string, Family>> {
  const res = await fixture.admin.app.inject({ url: '/metrics', headers: BEARER });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(res.body);
}

describe('GET /metrics', () => {
  it('parses as Prometheus text exposition and lists what the issue asks for', async () => {
    const fixture = await start({ plugins: [echo] });
    const families = await scrape(fixture);
    const expected: Record<string, string> = {
      botbridge_connections: 'gauge',
      botbridge_handshakes_total: 'counter',
      botbridge_packets_in_total: 'counter',
      botbridge_packets_out_total: 'counter',
      botbridge_auth_failures_total: 'counter',
      botbridge_dedup_drops_total: 'counter',
      botbridge_queue_depth: 'gauge',
      botbridge_queue_wait_seconds: 'histogram',
      botbridge_jobs_in_flight: 'gauge',
      botbridge_message_processing_seconds: 'histogram',
      botbridge_plugin_handler_seconds: 'histogram',
      botbridge_timeouts_total: 'counter',
      botbridge_replies_total: 'counter',
      botbridge_ping_rtt_seconds: 'histogram',
      botbridge_store_errors_total: 'counter',
      nodejs_eventloop_lag_p99_seconds: 'gauge',
      process_resident_memory_bytes: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(families.get(name)?.type, name).toBe(type);
      expect(families.get(name)?.help, name).toBeTruthy();
    }
    expect(value(families, 'process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(value(families, 'botbridge_timeouts_total', { kind: 'processing' })).toBe(0);
  });

  it("has the Node.js process metrics Grafana's standard Node dashboards read, under prom-client's default names", async () => {
    const fixture = await start({ plugins: [echo] });
    const first = await scrape(fixture);
    const expected: Record<string, string> = {
      process_cpu_user_seconds_total: 'counter',
      process_cpu_system_seconds_total: 'counter',
      process_cpu_seconds_total: 'counter',
      process_start_time_seconds: 'gauge',
      process_resident_memory_bytes: 'gauge',
      process_open_fds: 'gauge',
      process_max_fds: 'gauge',
      process_virtual_memory_bytes: 'gauge',
      process_heap_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
      nodejs_eventloop_lag_p50_seconds: 'gauge',
      nodejs_eventloop_lag_p90_seconds: 'gauge',
      nodejs_eventloop_lag_p99_seconds: 'gauge',
      nodejs_heap_size_total_bytes: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
      nodejs_external_memory_bytes: 'gauge',
      nodejs_heap_space_size_used_bytes: 'gauge',
      nodejs_active_handles_total: 'gauge',
      nodejs_active_requests_total: 'gauge',
      nodejs_active_resources_total: 'gauge',
      nodejs_gc_duration_seconds: 'histogram',
      nodejs_version_info: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(first.get(name)?.type, name).toBe(type);
      expect(first.get(name)?.help, name).toBeTruthy();
    }
    const [major, minor, patch] = process.versions.node.split('.');
    expect(value(first, 'nodejs_version_info', { version: process.version, major: major!, minor: minor!, patch: patch! })).toBe(1);
    expect(value(first, 'process_open_fds')).toBeGreaterThan(2);
    expect(value(first, 'process_max_fds')).toBeGreaterThanOrEqual(value(first, 'process_open_fds'));
    expect(value(first, 'nodejs_heap_space_size_used_bytes', { space: 'old' })).toBeGreaterThan(0);
    // CPU time only grows; burn some and the next scrape shows more.
    const cpuBefore = value(first, 'process_cpu_seconds_total');
    const until = process.cpuUsage().user + 50_000;
    while (process.cpuUsage().user < until) Math.sqrt(Math.random());
    const second = await scrape(fixture);
    expect(value(second, 'process_cpu_seconds_total')).toBeGreaterThan(cpuBefore);
    expect(value(second, 'process_cpu_seconds_total')).toBeCloseTo(value(second, 'process_cpu_user_seconds_total') + value(second, 'process_cpu_system_seconds_total'), 2);
  });

  it('moves its counters and histograms as traffic flows', async () => {
    const fixture = await start({ plugins: [echo], config: { session: { pingIntervalMs: 100, pingJitterMs: 0 } } });
    const before = await scrape(fixture);
    expect(value(before, 'botbridge_connections', { state: 'ready' })).toBe(0);

    const phone = await fixture.client();
    await phone.shouldReply('하나', '에코: 하나');
    await phone.shouldReply('둘', '에코: 둘');
    const sent = phone.analyze('셋');
    phone.analyze({ text: sent.text, logId: sent.logId });
    await phone.nextReply();
    const forger = await fixture.client({ deviceId: 'forged0000000000', secretKey: 'not-the-key', autoPong: false });
    forger.analyze('위조');
    await phone.nextPacket('ping');
    await eventually('counted', () => fixture.t.bridge.admin.counters.get('auth_failures', 'BRIDGE_ERR_AUTH_SIGNATURE') === 1 && fixture.t.bridge.admin.counters.get('pings_answered') > 0);

    const after = await scrape(fixture);
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(delta('botbridge_handshakes_total', { result: 'approved' })).toBe(2);
    expect(delta('botbridge_connections_total', { result: 'accepted' })).toBe(2);
    expect(value(after, 'botbridge_connections', { state: 'ready' })).toBe(2);
    expect(value(after, 'botbridge_clients', { bot: 'LOA.i' })).toBe(2);
    expect(delta('botbridge_packets_in_total', { event: 'analyze' })).toBe(5);
    expect(delta('botbridge_packets_out_total', { event: 'messageResponse' })).toBe(3);
    expect(delta('botbridge_packets_out_total', { event: 'handshakeComplete' })).toBe(2);
    expect(delta('botbridge_dedup_drops_total', { reason: 'duplicate' })).toBe(1);
    expect(delta('botbridge_auth_failures_total', { reason: 'BRIDGE_ERR_AUTH_SIGNATURE' })).toBe(1);
    expect(delta('botbridge_replies_total', { result: 'written' })).toBe(3);
    expect(delta('botbridge_messages_total', { stage: 'admitted' })).toBe(3);
    expect(delta('botbridge_dispatcher_jobs_total', { result: 'completed' })).toBe(3);
    expect(delta('botbridge_queue_wait_seconds_count', { bot: 'LOA.i' })).toBe(3);
    expect(delta('botbridge_message_processing_seconds_count', { bot: 'LOA.i', outcome: 'replied' })).toBe(3);
    expect(delta('botbridge_plugin_handler_seconds_count', { plugin: 'echo', hook: 'onMessage', outcome: 'ok' })).toBe(3);
    expect(value(after, 'botbridge_ping_rtt_seconds_count', { bot: 'LOA.i' })).toBeGreaterThan(0);
    expect(value(after, 'botbridge_client_rtt_seconds', { bot: 'LOA.i', device: 'a1b2c3d4e5f60718' })).toBeGreaterThanOrEqual(0);
    expect(value(after, 'botbridge_queue_depth')).toBe(0);
  });

  it('serves plugin metrics from the same registry and removes only its own on close', async () => {
    const fixture = await start();
    // What ctx.metrics does for a plugin: a metric on the bridge's registry.
    const pluginCounter = new Counter({ name: 'botbridge_demo_things_total', help: 'Things a demo plugin did.', registers: [fixture.t.bridge.metricsRegistry] });
    pluginCounter.inc(2);
    expect(value(await scrape(fixture), 'botbridge_demo_things_total')).toBe(2);
    await fixture.admin.close();
    const left = fixture.t.bridge.metricsRegistry.getMetricsAsArray().map((m) => m.name);
    expect(left).toEqual(['botbridge_demo_things_total']);
  });

  it('is not served when http.metrics is off, and then subscribes to no event', async () => {
    const fixture = await start({ http: { metrics: false } });
    expect((await fixture.admin.app.inject({ url: '/metrics', headers: BEARER })).statusCode).toBe(404);
    expect(fixture.t.bridge.events.active('message:started')).toBe(false);
  });

  it('rejects a scrape without the token', async () => {
    const fixture = await start();
    expect((await fixture.admin.app.inject({ url: '/metrics' })).statusCode).toBe(401);
  });
});
