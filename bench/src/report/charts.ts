import type { BenchResults, LoadComparison } from './results-types.js';
import { lineChart, type Series } from './svg-chart.js';

const COLORS = { echo: '#7f7f7f', botbridge: '#1f77b4', mariadb: '#d62728' } as const;

/** The charts of a run, by file name. */
export function renderCharts(r: BenchResults): Record<string, string> {
  const charts: Record<string, string> = {};
  if (r.closedLoop.length > 0) charts['throughput.svg'] = throughputChart(r);
  if (r.openLoop.length > 0) charts['latency.svg'] = latencyChart(r.openLoop);
  if (r.churn) charts['churn-rss.svg'] = churnChart(r);
  return charts;
}

function throughputChart(r: BenchResults): string {
  const line = (name: string, color: string, rows: readonly LoadComparison[], pick: 'echo' | 'botbridge', dashed = false): Series => ({
    name,
    color,
    dashed,
    points: rows.map((c) => [c.connections, c[pick].repliesPerSec] as const),
  });
  const series: Series[] = [
    line('echo baseline', COLORS.echo, r.closedLoop, 'echo', true),
    line('botbridge, SQLite', COLORS.botbridge, r.closedLoop, 'botbridge'),
  ];
  if (Array.isArray(r.mariadb) && r.mariadb.length > 0) {
    series.push(line('botbridge, MariaDB', COLORS.mariadb, r.mariadb as readonly LoadComparison[], 'botbridge'));
  }
  return lineChart({
    title: `Closed loop: replies/s vs connections (${r.closedLoop[0]!.window} in flight each)`,
    xLabel: 'connections (log scale)',
    yLabel: 'replies per second',
    xLog: true,
    series,
  });
}

function latencyChart(rows: readonly LoadComparison[]): string {
  const pts = (pick: 'echo' | 'botbridge', q: 'p50' | 'p99' | 'p999') =>
    rows.map((c) => [c.offeredRate!, Math.max(0.01, c[pick].latency[q])] as const);
  return lineChart({
    title: `Open loop: latency vs offered load (${rows[0]!.connections} connections)`,
    xLabel: 'offered load, requests per second',
    yLabel: 'latency, ms (log scale)',
    yLog: true,
    series: [
      { name: 'botbridge p50', color: '#1f77b4', points: pts('botbridge', 'p50') },
      { name: 'botbridge p99', color: '#ff7f0e', points: pts('botbridge', 'p99') },
      { name: 'botbridge p99.9', color: '#d62728', points: pts('botbridge', 'p999') },
      { name: 'echo p50', color: '#1f77b4', dashed: true, points: pts('echo', 'p50') },
      { name: 'echo p99', color: '#ff7f0e', dashed: true, points: pts('echo', 'p99') },
      { name: 'echo p99.9', color: '#d62728', dashed: true, points: pts('echo', 'p999') },
    ],
  });
}

function churnChart(r: BenchResults): string {
  const churn = r.churn!;
  const line = (name: string, color: string, pick: 'echo' | 'botbridge', dashed = false): Series => ({
    name,
    color,
    dashed,
    points: [churn[pick].before, ...churn[pick].checkpoints].map((c) => [c.cycles, c.rssBytes / 1_048_576] as const),
  });
  return lineChart({
    title: 'Churn: server RSS (after a full GC) vs connect/handshake/disconnect cycles',
    xLabel: 'cycles',
    yLabel: 'RSS, MiB',
    series: [line('echo baseline', COLORS.echo, 'echo', true), line('botbridge', COLORS.botbridge, 'botbridge')],
  });
}
