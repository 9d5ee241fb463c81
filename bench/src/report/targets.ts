import type { BenchResults, LoadFigures } from './results-types.js';

const usPerReply = (f: LoadFigures) => (f.repliesPerSec > 0 ? (f.serverCpu * 1e6) / f.repliesPerSec : Number.NaN);

/** One target of issue 5, evaluated against a run. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** null: not measured in this run. */
  readonly met: boolean | null;
  /** For a miss: by how much. */
  readonly shortfall: string | null;
}

/** The production Python server: ~1,200 replies/s at 100 connections with MariaDB (issue 5). */
export const PYTHON_REPLIES_PER_SEC = 1_200;
const KB = 1_000;

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const ms = (x: number) => `${x < 1 ? x.toFixed(3) : x.toFixed(1)} ms`;

/** A botbridge figure counts only if no chat-log row was lost to reach it (null: not measured, older results). */
function lostRows(f: LoadFigures): number | null {
  if (!f.chatLog) return null;
  return Math.max(f.chatLog.dropped, f.chatLog.due - f.chatLog.written);
}

/** Turns a met target into a miss when the run lost chat-log rows. */
function honest(check: TargetCheck, f: LoadFigures): TargetCheck {
  const lost = lostRows(f);
  if (!lost || check.met === null) return check;
  return { ...check, met: false, shortfall: `INVALID: ${lost} chat-log rows lost in the run${check.shortfall ? `; ${check.shortfall}` : ''}` };
}

/** Issue 11: chat-log rows = rows due, 0 dropped; RSS at most 2× idle under load and back within 10% after the cool-down. */
function nothingLostTargets(label: string, f: LoadFigures): TargetCheck[] {
  const out: TargetCheck[] = [];
  if (f.chatLog) {
    const lost = lostRows(f)!;
    out.push({
      target: `${label}: every chat-log row written (rows = messages received + replies written, 0 dropped)`,
      measured: `${f.chatLog.written} of ${f.chatLog.due} rows, ${f.chatLog.dropped} dropped`,
      met: lost === 0,
      shortfall: lost === 0 ? null : `${lost} rows lost`,
    });
  }
  if (f.memory) {
    const m = f.memory;
    const peak = m.peakRssBytes / m.idleRssBytes;
    const after = m.afterCooldownRssBytes / m.idleRssBytes;
    const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(0)} MiB`;
    out.push({
      target: `${label}: RSS under load ≤ 2× idle, and within 10% of idle ${Math.round(m.cooldownMs / 1000)} s after the load`,
      measured: `idle ${mib(m.idleRssBytes)}, peak ${mib(m.peakRssBytes)} (×${peak.toFixed(2)}), after ${mib(m.afterCooldownRssBytes)} (×${after.toFixed(2)})`,
      met: peak <= 2 && after <= 1.1,
      shortfall: peak <= 2 && after <= 1.1 ? null : [peak > 2 ? `peak ×${peak.toFixed(2)}` : '', after > 1.1 ? `after ×${after.toFixed(2)}` : ''].filter(Boolean).join(', '),
    });
  }
  return out;
}

export function evaluateTargets(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const run of r.nothingLost ?? []) {
    out.push(...nothingLostTargets(`${run.connections} connections, ${run.store === 'sqlite' ? 'SQLite' : 'MariaDB'}, ${Math.round(run.durationMs / 1000)} s`, run.botbridge));
  }
  const c100 = r.closedLoop.find((c) => c.connections === 100);
  if (c100) {
    const ratio = c100.ratio.throughput;
    out.push(honest({
      target: '100 connections, SQLite, chat log on: ≥ 50% of the echo baseline\'s replies/s',
      measured:
        `${Math.round(c100.botbridge.repliesPerSec)} vs ${Math.round(c100.echo.repliesPerSec)} replies/s = ${pct(ratio)}; ` +
        `server CPU per reply ${Math.round(usPerReply(c100.botbridge))} vs ${Math.round(usPerReply(c100.echo))} µs = ${pct(usPerReply(c100.echo) / usPerReply(c100.botbridge))}`,
      met: ratio >= 0.5,
      shortfall: ratio >= 0.5 ? null : `${pct(0.5 - ratio)} points short (needs ×${(0.5 / ratio).toFixed(1)})`,
    }, c100.botbridge));
    const p99 = c100.ratio.p99;
    out.push(honest({
      target: '100 connections, SQLite: p99 ≤ 3× the baseline\'s',
      measured: `${ms(c100.botbridge.latency.p99)} vs ${ms(c100.echo.latency.p99)} = ×${p99.toFixed(1)}`,
      met: p99 <= 3,
      shortfall: p99 <= 3 ? null : `×${p99.toFixed(1)} instead of ≤ ×3`,
    }, c100.botbridge));
  }
  const m100 = Array.isArray(r.mariadb) ? (r.mariadb as BenchResults['closedLoop']).find((c) => c.connections === 100) : undefined;
  const need = 20 * PYTHON_REPLIES_PER_SEC;
  if (m100) {
    const got = m100.botbridge.repliesPerSec;
    out.push(honest({
      target: `100 connections, MariaDB: ≥ 20× the Python server (${need} replies/s) with p99 < 20 ms`,
      measured: `${Math.round(got)} replies/s (×${(got / PYTHON_REPLIES_PER_SEC).toFixed(1)}), p99 ${ms(m100.botbridge.latency.p99)}`,
      met: got >= need && m100.botbridge.latency.p99 < 20,
      shortfall: got >= need && m100.botbridge.latency.p99 < 20 ? null : `${Math.round(need - got)} replies/s short (${pct(got / need)} of the target)` + (m100.botbridge.latency.p99 >= 20 ? `, p99 ${ms(m100.botbridge.latency.p99)}` : ''),
    }, m100.botbridge));
  } else {
    out.push({ target: `100 connections, MariaDB: ≥ ${need} replies/s, p99 < 20 ms`, measured: 'not run', met: null, shortfall: Array.isArray(r.mariadb) ? null : (r.mariadb as { reason: string }).reason });
  }
  const c1 = r.closedLoop.find((c) => c.connections === 1);
  if (c1) {
    const p50 = c1.botbridge.latency.p50;
    out.push({ target: '1 connection, one request in flight: p50 < 0.5 ms', measured: ms(p50), met: p50 < 0.5, shortfall: p50 < 0.5 ? null : `${ms(p50 - 0.5)} over` });
  }
  if (r.idle) {
    const b = r.idle.botbridge;
    const perConn = b.rssPerConnectionBytes;
    out.push({
      target: `${b.connections} idle connections: < 30 KB of RSS each`,
      measured: `${(perConn / KB).toFixed(1)} KB`,
      met: perConn < 30 * KB,
      shortfall: perConn < 30 * KB ? null : `${((perConn - 30 * KB) / KB).toFixed(1)} KB over`,
    });
    out.push({
      target: `${b.connections} idle connections: no missed ping`,
      measured: `${b.missedPings} missed (max gap ${Math.round(b.maxPingGapMs)} ms, ${b.closedByServer} closed by the server)`,
      met: b.missedPings === 0 && b.closedByServer === 0,
      shortfall: b.missedPings === 0 ? null : `${b.missedPings} missed`,
    });
    out.push({
      target: `${b.connections} idle connections: ≥ 2,000 handshakes/s`,
      measured: `${Math.round(b.handshakesPerSec)}/s (echo baseline ${Math.round(r.idle.echo.handshakesPerSec)}/s)`,
      met: b.handshakesPerSec >= 2_000,
      shortfall: b.handshakesPerSec >= 2_000 ? null : `${Math.round(2_000 - b.handshakesPerSec)}/s short`,
    });
  }
  if (r.churn) {
    const b = r.churn.botbridge;
    const first = b.checkpoints[0]!;
    const growth = b.rssGrowthPercent;
    const heapMiB = (bytes: number) => (bytes / 1_048_576).toFixed(1);
    // The target guards against leaks: RSS falling back (allocator pages returned) is not one.
    out.push({
      target: `Churn: RSS after ${b.cycles} cycles within 10% of the value after the first ${first.cycles} (a rise beyond 10% fails)`,
      measured:
        `${(first.rssBytes / 1_048_576).toFixed(1)} → ${(b.after.rssBytes / 1_048_576).toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%); ` +
        `V8 heap ${heapMiB(first.heapUsedBytes)} → ${heapMiB(b.after.heapUsedBytes)} MiB`,
      met: growth <= 10,
      shortfall: growth <= 10 ? (growth < -10 ? 'RSS fell, not rose: no leak' : null) : `${(growth - 10).toFixed(1)} points over`,
    });
    const leaked = Object.entries(b.leakedHandles).filter(([, n]) => n > 0);
    out.push({
      target: 'Churn: no leaked handles',
      measured: leaked.length === 0 ? 'none left' : leaked.map(([k, n]) => `${k} +${n}`).join(', '),
      met: leaked.length === 0,
      shortfall: leaked.length === 0 ? null : leaked.map(([k, n]) => `${k} +${n}`).join(', '),
    });
  }
  // Older results files have no profilerCost at all: no row. null means not selected or failed.
  if (r.profilerCost !== undefined) out.push(profilerTarget(r.profilerCost));
  // Likewise for the protocols scenario (issue 12).
  if (r.protocolCost !== undefined) out.push(protocolTarget(r.protocolCost));
  return out;
}

/** Issue 12: v3.3's server CPU per reply at most this many times v3.2's. */
export const PROTOCOL_V33_MAX_CPU_RATIO = 1.15;

function protocolTarget(p: BenchResults['protocolCost']): TargetCheck {
  const target = `v3.3 costs at most ${pct(PROTOCOL_V33_MAX_CPU_RATIO - 1)} more server CPU per reply than v3.2`;
  if (!p) return { target, measured: 'not run', met: null, shortfall: null };
  const ratio = p.ratio.cpuPerReply;
  const ok = ratio <= PROTOCOL_V33_MAX_CPU_RATIO;
  const check: TargetCheck = {
    target,
    measured:
      `${p.connections} connections, closed loop: ${Math.round(usPerReply(p.v33))} vs ${Math.round(usPerReply(p.v32))} µs = ×${ratio.toFixed(2)}; ` +
      `replies/s ×${p.ratio.throughput.toFixed(2)}, p99 ×${p.ratio.p99.toFixed(2)}`,
    met: ok,
    shortfall: ok ? null : `×${ratio.toFixed(2)} instead of ≤ ×${PROTOCOL_V33_MAX_CPU_RATIO.toFixed(2)}`,
  };
  // A line that lost chat-log rows bought its figures with dropped writes: the comparison is void.
  return honest(honest(check, p.v32), p.v33);
}

/** Below this share of the server CPU per reply, a cost is under anything the load runs resolve. */
export const PROFILER_DISABLED_MAX_SHARE = 0.01;

function profilerTarget(p: BenchResults['profilerCost']): TargetCheck {
  const target = `Profiler disabled: no measurable cost (event guards < ${pct(PROFILER_DISABLED_MAX_SHARE)} of server CPU per reply)`;
  if (!p || !p.guards) return { target, measured: 'not run', met: null, shortfall: p ? 'the event-guard micro-benchmark failed' : null };
  const g = p.guards;
  const cpu = usPerReply(p.disabled);
  const share = g.nsPerMessage / 1000 / cpu;
  const ok = share < PROFILER_DISABLED_MAX_SHARE && g.activeChecks === 0;
  return {
    target,
    measured:
      (g.publishesPerMessage === undefined || g.nsPerPublish === undefined
        ? `${g.checksPerMessage.toFixed(0)} checks × ${g.nsPerCheck.toFixed(1)} ns`
        : `${g.publishesPerMessage.toFixed(0)} publishes × ${g.nsPerPublish.toFixed(1)} ns + ${g.checksPerMessage.toFixed(0)} checks × ${g.nsPerCheck.toFixed(1)} ns`) +
      ` = ${g.nsPerMessage.toFixed(0)} ns per message = ${(share * 100).toPrecision(2)}% of ${Math.round(cpu)} µs; ` +
      `enabled: CPU per reply ×${p.ratio.cpuPerReply.toFixed(2)}, replies/s ×${p.ratio.throughput.toFixed(2)}`,
    met: ok,
    shortfall: ok ? null : g.activeChecks > 0 ? `${g.activeChecks} checks or publishes found a subscriber with the profiler off` : `${(share * 100).toFixed(2)}% of CPU per reply`,
  };
}
