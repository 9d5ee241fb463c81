import type { Percentiles } from '../generator/samples.js';
import type { BenchResults, IdleFigures, LoadComparison, LoadFigures, NothingLostRun, ProfileSummary, ProfilerCost, ProtocolCost } from './results-types.js';
import { evaluateTargets, PROTOCOL_V33_MAX_CPU_RATIO } from './targets.js';

/**
 * docs/benchmarks.md from a results JSON: method, targets, one table per scenario, the charts,
 * the profile, then the hand-written analysis (bench/analysis.md) verbatim. Every figure in the
 * generated part comes from the JSON, so re-rendering an old run reproduces its page.
 */
export interface RenderInput {
  readonly results: BenchResults;
  /** Paths relative to docs/. */
  readonly resultsPath: string;
  readonly chartPaths: Readonly<Record<string, string>>;
  readonly analysis: string | null;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const x2 = (x: number) => `×${x.toFixed(2)}`;
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;
const lat = (p: Percentiles) => `${ms(p.p50)} / ${ms(p.p90)} / ${ms(p.p99)} / ${ms(p.p999)} / ${ms(p.max)}`;

/** Server CPU time per reply: robust to how much CPU the shared machine left the server. */
export function usPerReply(f: LoadFigures): number {
  return f.repliesPerSec > 0 ? (f.serverCpu * 1e6) / f.repliesPerSec : Number.NaN;
}

function problems(f: LoadFigures): string {
  const c = f.counts;
  const parts = [
    c.timeouts && `${c.timeouts} timeouts`,
    c.late && `${c.late} late`,
    c.duplicates && `${c.duplicates} duplicates`,
    c.orderViolations && `${c.orderViolations} out of order`,
    c.unknownReplies && `${c.unknownReplies} unmatched`,
    f.handshakeFailures && `${f.handshakeFailures} handshakes failed`,
  ].filter(Boolean);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/**
 * Chat-log rows written ÷ due. A botbridge run that dropped or lost rows is marked INVALID: its
 * throughput was bought with lost writes, so it is no result. Older results have no such figure.
 */
export function chatLogCell(f: LoadFigures): string {
  if (f.chatLog === undefined) return 'not measured';
  if (f.chatLog === null) return '–';
  const { due, written, dropped } = f.chatLog;
  const share = due > 0 ? `${((written / due) * 100).toFixed(1)}%` : '–';
  const complete = dropped === 0 && written >= due;
  return `${n(written)} / ${n(due)} (${share})${complete ? '' : ` — **INVALID: ${n(Math.max(dropped, due - written))} rows lost**`}`;
}

function loadTable(rows: readonly LoadComparison[], first: (c: LoadComparison) => string, firstHeader: string): string[] {
  const out = [
    `| ${firstHeader} | server | replies/s | p50 / p90 / p99 / p99.9 / max (ms) | errors | chat-log rows written / due | server CPU | server CPU per reply | generator CPU | others' CPU |`,
    '|---|---|---:|---|---|---|---:|---:|---:|---:|',
  ];
  for (const c of rows) {
    for (const kind of ['echo', 'botbridge'] as const) {
      const f = c[kind];
      const label = kind === 'echo' ? first(c) : '';
      const rounds = f.perRound.length > 1 ? ` (${f.perRound.map(n).join(', ')})` : '';
      const log = kind === 'echo' ? 'no chat log' : chatLogCell(f);
      out.push(`| ${label} | ${kind} | ${n(f.repliesPerSec)}${rounds} | ${lat(f.latency)} | ${problems(f)} | ${log} | ${f.serverCpu.toFixed(2)} | ${usPerReply(f).toFixed(0)} µs | ${f.generatorCpu.toFixed(2)} | ${f.otherCpu.toFixed(2)} |`);
    }
    out.push(`| | **ratio** | **${x2(c.ratio.throughput)}** | p50 ${x2(c.ratio.p50)}, p99 ${x2(c.ratio.p99)} | | | | | **${x2(usPerReply(c.echo) / usPerReply(c.botbridge))}** | | |`);
  }
  return out;
}

/** Issue 11's runs: throughput and CPU per reply with every row written, next to the reference run's. */
function nothingLostSection(runs: readonly NothingLostRun[]): string[] {
  const out = [
    '## Nothing lost: 100 connections, every chat-log row written',
    '',
    'botbridge alone, closed loop, one long window per store; the chat-log rows in the store after a graceful close are counted against the rows due (one per message received, one per reply written). ' +
      '"Reference" is the same scenario in the last run before rows were counted (the write buffer then dropped rows silently once full, so its throughput was partly bought with lost rows).',
    '',
    '| run | window | replies/s | p50 / p90 / p99 / p99.9 / max (ms) | errors | chat-log rows written / due | server CPU per reply | reference replies/s | reference CPU per reply |',
    '|---|---:|---:|---|---|---|---:|---:|---:|',
  ];
  for (const r of runs) {
    const f = r.botbridge;
    const ref = r.reference;
    out.push(
      `| ${r.id} | ${n(r.durationMs / 1000)} s | ${n(f.repliesPerSec)} | ${lat(f.latency)} | ${problems(f)} | ${chatLogCell(f)} | ${usPerReply(f).toFixed(0)} µs | ` +
        `${ref ? n(ref.repliesPerSec) : '–'} | ${ref ? `${ref.usPerReply.toFixed(0)} µs` : '–'} |`,
    );
  }
  out.push('', ...memoryTable(runs.map((r) => ({ id: r.id, figures: r.botbridge }))));
  return out;
}

/** RSS idle → peak → after the cool-down, for the runs that measured it. */
function memorySection(rows: readonly LoadComparison[]): string[] {
  const table = memoryTable(rows.map((c) => ({ id: c.id, figures: c.botbridge })));
  return table.length === 0 ? [] : ['## Memory under load and after it', '', ...table];
}

function memoryTable(rows: readonly { id: string; figures: LoadFigures }[]): string[] {
  const measured = rows.filter((c) => c.figures.memory);
  if (measured.length === 0) return [];
  const out = [
    'botbridge\'s RSS (as `ps` shows it, no forced GC) with the phones connected and idle before the load, its peak during the load (sampled every second), and after a cool-down with the phones still connected. ' +
      'Targets: peak at most 2× idle; back within 10% of idle after the cool-down.',
    '',
    '| scenario | idle | peak (× idle) | after cool-down (vs idle) |',
    '|---|---:|---:|---:|',
  ];
  for (const c of measured) {
    const m = c.figures.memory!;
    const growth = ((m.afterCooldownRssBytes / m.idleRssBytes - 1) * 100);
    out.push(
      `| ${c.id} | ${mib(m.idleRssBytes)} | ${mib(m.peakRssBytes)} (${x2(m.peakRssBytes / m.idleRssBytes)}) | ${mib(m.afterCooldownRssBytes)} after ${n(m.cooldownMs / 1000)} s (${growth >= 0 ? '+' : '−'}${Math.abs(growth).toFixed(1)}%) |`,
    );
  }
  return [...out, ''];
}

function idleRows(label: string, f: IdleFigures): string {
  return (
    `| ${label} | ${n(f.connections)} (${f.failures} failed) | ${n(f.handshakesPerSec)} | ${ms(f.handshakeMs.p50)} / ${ms(f.handshakeMs.p99)} | ` +
    `${mib(f.rssBeforeBytes)} → ${mib(f.rssAfterBytes)} | **${kb(f.rssPerConnectionBytes)}** (heap ${kb(f.heapPerConnectionBytes)}) | ` +
    `${n(f.pingsSentByServer)} / ${n(f.pingsReceived)} | ${f.missedPings} (max gap ${n(f.maxPingGapMs)} ms) | ${ms(f.pingDelayMs.p50)} / ${ms(f.pingDelayMs.p99)} | ${f.serverCpuDuringHold.toFixed(2)} |`
  );
}

function profileSection(p: ProfileSummary): string[] {
  const out = [`### ${p.scenario}`, '', `Main-thread CPU in the window: ${n(p.totalMs)} ms (idle excluded).`, ''];
  out.push('| self time by where the code lives | ms | % |', '|---|---:|---:|');
  for (const c of p.categories.slice(0, 14)) out.push(`| ${c.category} | ${n(c.selfMs)} | ${c.selfPercent.toFixed(1)} |`);
  out.push('', '| top functions, self time | where | ms | % |', '|---|---|---:|---:|');
  for (const e of p.top.slice(0, 20)) out.push(`| \`${e.name}\` | ${e.location} | ${n(e.selfMs)} | ${e.selfPercent.toFixed(1)} |`);
  out.push('', '| project and dependency functions, inclusive time (callees included) | where | ms | % |', '|---|---|---:|---:|');
  for (const e of p.inclusive.slice(0, 30)) out.push(`| \`${e.name}\` | ${e.location} | ${n(e.selfMs)} | ${e.selfPercent.toFixed(1)} |`);
  return [...out, ''];
}

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
const fewDigits = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The "Profiler cost" section: without ÷ with the profiler, and the event guards' cost per message. */
export function profilerSection(p: ProfilerCost): string[] {
  const out = [
    '## Profiler cost',
    '',
    `Closed loop, ${n(p.connections)} connections, SQLite store, chat log on: **(a)** the Domaeka bench config (\`${p.configs.disabled}\`, profiler not enabled) and ` +
      `**(b)** the same plus the profiler plugin (\`${p.configs.enabled}\`: histograms on the bridge's Prometheus registry, 3 s slow-message threshold), ` +
      `${p.rounds} round(s), alternating which goes first, a fresh server each run. Ratios are (b) ÷ (a).`,
    '',
    '| profiler | replies/s | p50 / p90 / p99 / p99.9 / max (ms) | errors | server CPU | server CPU per reply | generator CPU | others\' CPU |',
    '|---|---:|---|---|---:|---:|---:|---:|',
  ];
  for (const [label, f] of [['(a) not enabled', p.disabled], ['(b) enabled', p.enabled]] as const) {
    const rounds = f.perRound.length > 1 ? ` (${f.perRound.map(n).join(', ')})` : '';
    out.push(`| ${label} | ${n(f.repliesPerSec)}${rounds} | ${lat(f.latency)} | ${problems(f)} | ${f.serverCpu.toFixed(2)} | ${usPerReply(f).toFixed(0)} µs | ${f.generatorCpu.toFixed(2)} | ${f.otherCpu.toFixed(2)} |`);
  }
  out.push(`| **(b) ÷ (a)** | **${x2(p.ratio.throughput)}** | p50 ${x2(p.ratio.p50)}, p99 ${x2(p.ratio.p99)} | | | **${x2(p.ratio.cpuPerReply)}** | | |`, '');
  const cpuA = usPerReply(p.disabled);
  const g = p.guards;
  if (g) {
    const list = (byName: Readonly<Record<string, number>>) => Object.entries(byName).map(([name, k]) => `\`${name}\` ${Number(k.toPrecision(2))}`).join(', ');
    const share = (g.nsPerMessage / 1000 / cpuA) * 100;
    const where = `counted over ${n(g.messages)} messages from ${n(g.connections)} connections at once on a real bridge over TCP, \`bench/micro/event-guards.ts\``;
    const standing = g.standingSubscribers?.length ? ` (not counting ${g.standingSubscribers.map((name) => `\`${name}\``).join(', ')}, which the config's plugins subscribe to throughout: building and delivering those is their work)` : '';
    const found = (g.activeChecks === 0 ? 'none of which found a subscriber' : `**${g.activeChecks} of which found a subscriber**`) + standing;
    const share2 = `**${share < 0.01 ? share.toPrecision(1) : share.toFixed(2)}%** of the ${cpuA.toFixed(0)} µs of server CPU per reply of (a), far below what the load runs can resolve.`;
    // Results from before the extension table have no publishes: their core guarded every event with active().
    out.push(
      g.publishesPerMessage === undefined || g.publishesByName === undefined || g.nsPerPublish === undefined
        ? `**Not enabled.** Nothing subscribes to the event channels, and the core checks \`events.active(name)\` before building any event. ` +
            `One \`# echo\` message passes **${fewDigits(g.checksPerMessage)}** such checks (${list(g.checksByName)}; ${where}), ${found}. ` +
            `Replayed on a core \`EventBus\` with no subscribers they cost **${g.nsPerCheck.toFixed(1)} ns per check, ${fewDigits(g.nsPerMessage)} ns per message** ` +
            `(loop included): ${share2}`
        : `**Not enabled.** Nothing subscribes to the event channels. Each fact is published once (\`events.publish\`: a counter increment and a subscriber check; ` +
            `the event object is built only for subscribers), and costly events are guarded by \`events.active(name)\`. ` +
            `One \`# echo\` message makes **${fewDigits(g.publishesPerMessage)}** publishes (${list(g.publishesByName)}) and **${fewDigits(g.checksPerMessage)}** checks (${list(g.checksByName)}; ${where}), ${found}. ` +
            `Replayed on a core \`EventBus\` with no subscribers they cost **${g.nsPerPublish.toFixed(1)} ns per publish, ${g.nsPerCheck.toFixed(1)} ns per check, ${fewDigits(g.nsPerMessage)} ns per message** ` +
            `(loop included; the counters are the ones \`/metrics\` reads, so part of this is not the profiler's): ${share2}`,
      '',
    );
  } else {
    out.push('**Not enabled.** The event-guard micro-benchmark did not run in this run (see the failed scenarios above).', '');
  }
  const delta = usPerReply(p.enabled) - cpuA;
  out.push(
    `**Enabled.** With the profiler subscribed, the core builds every message's events and the profiler follows them into its traces and histograms: server CPU per reply ${signed(delta, 1)} µs (${x2(p.ratio.cpuPerReply)}), ` +
      `replies/s ${x2(p.ratio.throughput)}, p99 ${x2(p.ratio.p99)}` +
      (p.disabled.perRound.length > 1 ? '; the per-round values in brackets show the run-to-run spread.' : '; one round only, so the spread between runs is not known.'),
    '',
  );
  return out;
}

/** Issue 12's "Protocol v3.2 vs v3.3" section: the same load with every phone on one line, then the other. */
export function protocolSection(p: ProtocolCost): string[] {
  const out = [
    '## Protocol v3.2 vs v3.3',
    '',
    `botbridge alone (the echo baseline speaks v3.2 only), closed loop, ${n(p.connections)} connections, ${p.window} request(s) in flight each, SQLite store, chat log on, the Domaeka bench config: ` +
      `one run with every phone on protocol v3.2, one with every phone on v3.3, ${p.rounds} round(s), alternating which goes first, a fresh server each run. Ratios are v3.3 ÷ v3.2.`,
    '',
    '| protocol | replies/s | p50 / p90 / p99 / p99.9 / max (ms) | errors | chat-log rows written / due | server CPU | server CPU per reply | generator CPU | others\' CPU |',
    '|---|---:|---|---|---|---:|---:|---:|---:|',
  ];
  for (const [label, f] of [['v3.2', p.v32], ['v3.3', p.v33]] as const) {
    const rounds = f.perRound.length > 1 ? ` (${f.perRound.map(n).join(', ')})` : '';
    out.push(`| ${label} | ${n(f.repliesPerSec)}${rounds} | ${lat(f.latency)} | ${problems(f)} | ${chatLogCell(f)} | ${f.serverCpu.toFixed(2)} | ${usPerReply(f).toFixed(0)} µs | ${f.generatorCpu.toFixed(2)} | ${f.otherCpu.toFixed(2)} |`);
  }
  out.push(`| **v3.3 ÷ v3.2** | **${x2(p.ratio.throughput)}** | p50 ${x2(p.ratio.p50)}, p99 ${x2(p.ratio.p99)} | | | | **${x2(p.ratio.cpuPerReply)}** | | |`, '');
  const delta = usPerReply(p.v33) - usPerReply(p.v32);
  out.push(
    `Server CPU per reply ${signed(delta, 1)} µs on v3.3 (${x2(p.ratio.cpuPerReply)}; the target allows ${x2(PROTOCOL_V33_MAX_CPU_RATIO)})` +
      (p.rounds > 1 ? '; the per-round values in brackets show the run-to-run spread.' : '; one round only, so the spread between runs is not known.'),
    '',
  );
  return out;
}

function busyText(r: BenchResults): string {
  const b = [...r.machineLoad.busyBeforeRuns].sort((x, y) => x - y);
  if (b.length === 0) return 'not measured';
  return `${Math.round(b[Math.floor(b.length / 2)]! * 100)}% / ${Math.round(b[b.length - 1]! * 100)}%`;
}

export function renderDocs(input: RenderInput): string {
  const r = input.results;
  const m = r.machine;
  const plan = r.plan as Record<string, unknown>;
  const out: string[] = [
    '# Benchmarks',
    '',
    `<!-- Generated by \`npm run bench\` (bench/src/cli.ts) from ${input.resultsPath}; edit bench/analysis.md, not this file. -->`,
    '',
    `Run of **${m.date.slice(0, 10)}** (${r.mode} mode, ${n(r.elapsedMs / 1000)} s): ${m.cpuModel}, **${m.cores} cores**, ${n(m.totalMemoryMiB)} MiB, ${m.os}, Node **${m.node}**. ` +
      `Code: ${r.revision}. Raw figures: [${input.resultsPath.replace(/^\.\.\//, '')}](${input.resultsPath}).`,
    '',
    ...(r.failures.length > 0 ? [`**Scenarios that failed in this run:** ${r.failures.join('; ')}.`, ''] : []),
    '## How it is measured',
    '',
    '- `npm run bench` runs every scenario below (15–25 minutes, longer when it has to wait for a busy machine); `npm run bench:quick` runs a scaled-down set in under 2 minutes. ' +
      'Both write `bench/results/<date>-<mode>.json`, the charts next to it, and this page.',
    '- **Servers.** botbridge is what `botbridge start` runs (`startServer`: the bridge plus its admin HTTP server with `/metrics`, scraped every 5 s during each run as Prometheus would) from `bench/configs/domaeka.config.ts` (commands + chat-log plugins, SQLite file in a fresh temp directory, ' +
      '`approval.autoApprove`, production pipeline defaults, logs at `info` to a file), in its own process under tsx. ' +
      'After each run it closes gracefully and the chat-log rows in the store are counted against the rows due (one per message received, one per reply written): **a run that lost any row is marked INVALID** and its figures are no result. ' +
      'The **echo baseline** (`bench/src/servers/echo-server.ts`) speaks the same protocol with no pipeline: parse, verify the auth block (HMAC per packet), reply `에코: …`.',
    `- **Alternation.** Every load scenario runs echo and botbridge in the same invocation, ${plan.rounds} round(s), alternating which goes first; each run gets a fresh server. Ratios are botbridge ÷ echo.`,
    '- **Generator.** Separate processes (`bench/src/generator/`) speak the real protocol: bare handshake, `analyze` packets signed as the script signs them (one HMAC per second per connection, reusing the block within the second as the protocol allows), answers to every server ping. ' +
      'Each connection is one phone with its own bot, device and room; the text carries a token `<conn>.<seq>` that matches every reply `에코: <token>` to its request. ' +
      'Replies to a later request of the same room arriving first count as order violations; a second reply as a duplicate; no reply within ' +
      `${plan.timeoutMs} ms as a timeout. The generator reports its own CPU time (cores) next to the server's.`,
    `- **Closed loop**: ${(plan.closedLoop as { window: number }).window} request(s) in flight per connection; latency from the real send. **Open loop**: a fixed total rate on a schedule fixed in advance, round-robin over the connections; latency from each request's *intended* send time (no coordinated omission); the generator's own lag is part of it and reported.`,
    '- **Server CPU per reply** (server CPU time ÷ replies) is the figure least disturbed by other tenants: a starved server answers fewer replies but spends the same CPU on each. Its ratio row gives echo ÷ botbridge, i.e. botbridge\'s efficiency as a fraction of the baseline\'s.',
    `- **Window**: ${plan.warmupMs} ms warm-up, then ${plan.durationMs} ms measured. Percentiles are exact: nearest rank over every sample (all latencies are kept), pooled over rounds; throughput is the mean over rounds (per-round values in brackets).`,
    '- The machine is shared: generator and server compete for the same 2 cores, so a server near 1.0 core of CPU is saturated, and the generator\'s share is shown in every row. ' +
      `Other tenants also use it: before each run the bench waits (up to 30 s; 1.5 s in quick mode) until the machine is ≤ 25% busy without it. In this run the machine was ${busyText(r)} busy before the runs (median, max), and ${n(r.machineLoad.waitedMs / 1000)} s were spent waiting; the CPU other tenants used *during* each window is in the "others' CPU" column (cores).`,
    '',
    '## Targets (issues 5, 11 and 12)',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...evaluateTargets(r).map((t) => `| ${t.target} | ${t.measured}${t.shortfall ? ` — **${t.shortfall}**` : ''} | ${t.met === null ? 'not run' : t.met ? 'yes' : '**no**'} |`),
    '',
  ];
  if (r.nothingLost && r.nothingLost.length > 0) out.push(...nothingLostSection(r.nothingLost));
  if (r.closedLoop.length > 0) {
    out.push('## Closed loop, SQLite store, chat log on', '');
    out.push(...loadTable(r.closedLoop, (c) => `${n(c.connections)}`, 'connections'), '');
    if (input.chartPaths['throughput.svg']) out.push(`![replies/s vs connections](${input.chartPaths['throughput.svg']})`, '');
    out.push(...memorySection(r.closedLoop));
  }
  if (r.openLoop.length > 0) {
    const cap = r.openLoop[0]!.offeredRate! / r.openLoop[0]!.offeredFraction!;
    out.push('## Open loop: latency under a fixed load', '');
    out.push(`Rates are fractions of botbridge's closed-loop capacity measured above at ${r.openLoop[0]!.connections} connections (${n(cap)} replies/s); both servers get the same absolute rate.`, '');
    out.push(...loadTable(r.openLoop, (c) => `${n(c.offeredRate!)}/s (${Math.round(c.offeredFraction! * 100)}%)`, 'offered load'), '');
    const lag = r.openLoop.map((c) => `${n(c.offeredRate!)}/s: p50 ${ms(c.botbridge.sendLag?.p50 ?? Number.NaN)}, p99 ${ms(c.botbridge.sendLag?.p99 ?? Number.NaN)} ms`).join('; ');
    out.push(`Generator lag behind its schedule (botbridge runs; included in the latencies above): ${lag}.`, '');
    if (input.chartPaths['latency.svg']) out.push(`![latency vs offered load](${input.chartPaths['latency.svg']})`, '');
  }
  if (r.idle) {
    const i = r.idle;
    out.push(`## ${n(i.botbridge.connections)} idle connections`, '');
    out.push(
      `Connections open (handshake answered), then sit idle for ${n(i.holdMs)} ms answering pings. **The ping interval is shortened to ${i.pingIntervalMs} ms** (first ping after 0–${i.pingJitterMs} ms) so the hold covers several pings per connection. ` +
        `A ping counts as missed when a connection sees no ping for more than ${n(i.missedAfterMs)} ms, or when an answer the generator wrote is not recorded by the server. RSS is read after a full GC, before connecting and with every connection open; ` +
        'for botbridge it includes each new device\'s approval-cache entry and its session.',
      '',
      '| server | connections | handshakes/s | handshake p50 / p99 (ms) | RSS before → after | per connection | pings sent / received (hold) | missed pings | ping delivery p50 / p99 (ms) | server CPU in hold |',
      '|---|---:|---:|---|---|---|---|---|---|---:|',
      idleRows('echo', i.echo),
      idleRows('botbridge', i.botbridge),
      '',
    );
  }
  if (r.churn) {
    const c = r.churn;
    out.push('## Connection churn', '');
    out.push(
      `${n(c.botbridge.cycles)} connect → handshake → disconnect cycles over ${c.lanes} parallel lanes (each lane one phone reconnecting). All lanes pause at each checkpoint; the server runs a full GC and reports RSS, heap and active handles (\`process.getActiveResourcesInfo()\`).`,
      '',
      '| server | cycles/s | handshake p50 / p99 (ms) | RSS start → first checkpoint → end | heap first → end | RSS change after the first checkpoint | handles left (end − start) |',
      '|---|---:|---|---|---|---:|---|',
    );
    for (const kind of ['echo', 'botbridge'] as const) {
      const f = c[kind];
      const first = f.checkpoints[0]!;
      const left = Object.entries(f.leakedHandles).map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v}`).join(', ') || 'none';
      out.push(
        `| ${kind} | ${n(f.cyclesPerSec)} | ${ms(f.handshakeMs.p50)} / ${ms(f.handshakeMs.p99)} | ${mib(f.before.rssBytes)} → ${mib(first.rssBytes)} (at ${n(first.cycles)}) → ${mib(f.after.rssBytes)} | ` +
          `${mib(first.heapUsedBytes)} → ${mib(f.after.heapUsedBytes)} | ${f.rssGrowthPercent >= 0 ? '+' : ''}${f.rssGrowthPercent.toFixed(1)}% | ${left} |`,
      );
    }
    out.push('');
    if (input.chartPaths['churn-rss.svg']) out.push(`![RSS vs cycles](${input.chartPaths['churn-rss.svg']})`, '');
  }
  out.push('## Closed loop, MariaDB store', '');
  if (Array.isArray(r.mariadb)) {
    out.push(...loadTable(r.mariadb as readonly LoadComparison[], (c) => `${n(c.connections)}`, 'connections'), '');
    out.push(...memorySection(r.mariadb as readonly LoadComparison[]));
  }
  else out.push(`**Not run**: ${(r.mariadb as { reason: string }).reason}`, '');
  if (r.profilerCost) out.push(...profilerSection(r.profilerCost));
  if (r.protocolCost) out.push(...protocolSection(r.protocolCost));
  if (r.profiles.length > 0) {
    out.push('## Profiles of botbridge', '');
    out.push('V8 sampling profiler in the server process (inspector, 200 µs interval), started and stopped by the coordinator around the measured window only, in extra runs (profiling slows the server; the figures above come from unprofiled runs).', '');
    for (const p of r.profiles) out.push(...profileSection(p));
  }
  if (input.analysis) out.push(input.analysis.trim(), '');
  return out.join('\n');
}
