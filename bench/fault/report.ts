import type { ScenarioResult } from './scenario.js';

export interface FaultResults {
  readonly schema: 1;
  readonly mode: 'full' | 'quick';
  readonly date: string;
  readonly revision: string;
  readonly machine: { readonly cores: number; readonly loadAverage: readonly number[] };
  readonly scenarios: readonly ScenarioResult[];
  readonly elapsedMs: number;
}

export const DOCS_START = '<!-- fault-results:start -->';
export const DOCS_END = '<!-- fault-results:end -->';

const num = (v: unknown) => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v ?? '–'));

/** One line per headline figure of a scenario (what an operator reads first). */
function headline(s: ScenarioResult): string[] {
  const f = s.figures as Record<string, any>;
  switch (s.name) {
    case 'overload':
      return [
        `${num(f.sent)} sent at ${num(s.params.offeredPerSec)} msg/s (capacity ${num(s.params.capacityPerSec)} msg/s) for ${num(Number(s.params.durationMs) / 1000)} s; ${num(f.answered)} answered (${num(f.unanswered)} unanswered), ${num(f.duplicates)} duplicates, ${num(f.orderViolations)} order violations`,
        `disconnects: ${num(f.disconnects?.serverLog)} (server log), ${num(f.disconnects?.phones)} (phones); drain after the window ${num(f.drainMs)} ms`,
        `latency ms p50 ${num(f.latencyMs?.p50)} · p90 ${num(f.latencyMs?.p90)} · p99 ${num(f.latencyMs?.p99)} · max ${num(f.latencyMs?.max)}; per-phone replies in the window min ${num(f.fairness?.answeredInWindow?.min)} / max ${num(f.fairness?.answeredInWindow?.max)} (Jain ${num(f.fairness?.answeredInWindow?.jain)}), per-phone median latency ${num(f.fairness?.medianLatencyPerPhone?.min)}–${num(f.fairness?.medianLatencyPerPhone?.max)} ms`,
      ];
    case 'sigterm':
      return [
        `${num(f.sent)} sent, ${num(f.admitted)} admitted; exit ${num(f.exit?.code)} after ${num(f.exit?.afterMs)} ms; at exit ${num(f.atExit?.answeredBeforeExit)} answered, ${num(f.atExit?.leftInJournal)} left in the journal, ${num(f.atExit?.unansweredNotKept)} neither`,
        `admin /ready while closing: ${JSON.stringify(f.readinessWhileClosing ?? null)}`,
        `over both runs: ${num(f.lostJournaled)} journaled-never-answered, ${num(f.lostUnjournaled)} processed-never-answered, ${num(f.duplicates)} duplicates, ${num(f.orderViolations)} order violations; handler-error disconnects ${num(f.handlerErrorDisconnects)}; never admitted (unread) ${num(f.unreadNeverAdmitted)}`,
      ];
    case 'sigkill':
      return [
        `${num(f.sent)} sent, ${num(f.admitted)} admitted, ${num(f.answered)} answered; lost: ${num(f.lostJournaled)} journaled, ${num(f.windowLost)} in the window; duplicates ${num(f.duplicates)} (${num(f.windowDuplicates)} in the done-mark window, ${num(f.unexplainedDuplicates)} unexplained); order violations ${num(f.orderViolations)} in ${num(f.orderViolatingRooms)} rooms (${num(f.orderViolationsAcrossReconnect)} a line sent after a reconnect answered before a replayed one); unread at the kills ${num(f.unreadAtKills)}`,
        ...((f.perKill ?? []) as Record<string, number>[]).map((k, i) =>
          `kill ${i + 1}: ${num(k.journalPendingAtKill)} pending in the journal, window duplicates ${num(k.windowDuplicates)}, window lost ${num(k.windowLost)}, unread ${num(k.unread)} (written up to ${num(k.maxAgeAtKillMs)} ms before the kill), restart ${num(k.downtimeMs)} ms, all phones back ${num(k.allPhonesBackMs)} ms`),
      ];
    case 'outbox':
      return [
        `default TTL: ${num(f.defaultTtl?.beforeDisconnect)} replies before the disconnect, after the reconnect ${JSON.stringify(f.defaultTtl?.afterReconnect ?? null)}`,
        `short TTL: ${f.shortTtl ? `${num(f.shortTtl.afterReconnect.length)} late replies` : 'not run'}`,
      ];
    case 'lost':
      return Object.entries(f).filter(([k]) => k === 'sqlite' || k === 'mariadb').map(([store, v]: [string, any]) =>
        `${store}: ${num(v.repliesPerSec)} replies/s, ${num(v.usCpuPerReply)} µs CPU/reply, chat log ${num(v.chatLog?.written)}/${num(v.chatLog?.due)} rows (${num(v.chatLog?.dropped)} dropped), RSS idle ${num(Math.round((v.memory?.idleRssBytes ?? 0) / 1048576))} → peak ${num(Math.round((v.memory?.peakRssBytes ?? 0) / 1048576))} → after cool-down ${num(Math.round((v.memory?.afterCooldownRssBytes ?? 0) / 1048576))} MiB`);
    default:
      return [];
  }
}

/** The markdown summary (also spliced into docs/fault-tests.md between the markers). */
export function renderSummary(results: FaultResults, jsonPath: string): string {
  const lines = [
    `Run ${results.date} (${results.mode}), revision \`${results.revision}\`, ${results.machine.cores} cores, load average ${results.machine.loadAverage.map((l) => l.toFixed(1)).join(' / ')} at the start; ${Math.round(results.elapsedMs / 1000)} s. Raw figures: \`${jsonPath}\`.`,
    '',
    '| scenario | verdict | what failed |',
    '| --- | --- | --- |',
    ...results.scenarios.map((s) => `| ${s.name} | ${s.verdict}${s.expectedToFail ? ' (expected)' : ''} | ${s.failures.length ? s.failures.map((f) => f.replace(/\|/g, '\\|')).join('<br>') : '–'} |`),
    '',
  ];
  for (const s of results.scenarios) {
    lines.push(`**${s.name}** (${Math.round(s.elapsedMs / 1000)} s)`, '', ...headline(s).map((l) => `- ${l}`));
    const server = (s.figures as { server?: { disconnects: Record<string, number>; problems: { msg: string; count: number }[] } }).server;
    if (server && Object.keys(server.disconnects).length) lines.push(`- server close reasons: ${Object.entries(server.disconnects).map(([r, n]) => `${r} ×${n}`).join(', ')}`);
    if (server && server.problems.length) lines.push(`- server warnings/errors: ${server.problems.slice(0, 8).map((p) => `"${p.msg}" ×${p.count}`).join(', ')}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Replaces the figures section of docs/fault-tests.md (kept as is when the markers are missing). */
export function spliceDocs(page: string, summary: string): string {
  const start = page.indexOf(DOCS_START);
  const end = page.indexOf(DOCS_END);
  if (start < 0 || end < start) return page;
  return `${page.slice(0, start + DOCS_START.length)}\n${summary}\n${page.slice(end)}`;
}
