import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FaultPhone } from './fault-phone.js';
import { FaultServer, summarizeProblems, type ServerOptions } from './fault-server.js';

export type Verdict = 'pass' | 'fail' | 'expected-fail' | 'unexpected-pass' | 'error';

/** What one scenario reports (the JSON result and the markdown summary are built from these). */
export interface ScenarioResult {
  readonly name: string;
  readonly verdict: Verdict;
  /** Each broken expectation, in words, with its figure. */
  readonly failures: readonly string[];
  /** Why a failure is expected (a feature not merged yet), or null. */
  readonly expectedToFail: string | null;
  readonly params: Record<string, unknown>;
  readonly figures: Record<string, unknown>;
  readonly elapsedMs: number;
  /** The scenario's directory (server logs, SQLite files), kept for evidence. */
  readonly dir: string;
}

export interface RunOptions {
  readonly quick: boolean;
  /** Scratch directory of this invocation; a scenario makes its own subdirectory. */
  readonly workDir: string;
  readonly log: (line: string) => void;
}

/**
 * What a scenario holds while it runs, so every server and phone is stopped in every outcome:
 * servers by PID (SIGKILL when still running), phones closed.
 */
export class ScenarioScope {
  readonly dir: string;
  private readonly servers: FaultServer[] = [];
  private readonly phoneGroups: (readonly FaultPhone[])[] = [];
  private serverRuns = 0;

  constructor(readonly name: string, readonly options: RunOptions) {
    this.dir = join(options.workDir, name);
    mkdirSync(this.dir, { recursive: true });
  }

  log(line: string): void {
    this.options.log(`[${this.name}] ${line}`);
  }

  async startServer(options: Omit<ServerOptions, 'logFile'>): Promise<FaultServer> {
    this.serverRuns += 1;
    const server = await FaultServer.start({ ...options, logFile: join(this.dir, `server-${this.serverRuns}.log`) });
    this.servers.push(server);
    this.log(`botbridge started (pid ${server.pid}, port ${server.port})`);
    return server;
  }

  track(phones: readonly FaultPhone[]): readonly FaultPhone[] {
    this.phoneGroups.push(phones);
    return phones;
  }

  /** Close reasons over every server run of the scenario (server side), and its warn/error lines grouped. */
  serverEvidence(): { disconnects: Record<string, number>; problems: ReturnType<typeof summarizeProblems> } {
    const disconnects: Record<string, number> = {};
    for (const s of this.servers) for (const [reason, n] of s.disconnects) disconnects[reason] = (disconnects[reason] ?? 0) + n;
    return { disconnects, problems: summarizeProblems(this.servers.flatMap((s) => s.problems)) };
  }

  async dispose(): Promise<void> {
    // The phones' histories are the evidence behind every figure: one JSON line per phone.
    const lines = this.phoneGroups.flat().map((p) => JSON.stringify({ phone: p.index, deviceId: p.deviceId, room: p.room, sent: p.sent, received: p.received, closes: p.closes }));
    if (lines.length > 0) writeFileSync(join(this.dir, 'phones.jsonl'), `${lines.join('\n')}\n`);
    for (const phones of this.phoneGroups) await Promise.all(phones.map((p) => p.stop().catch(() => undefined)));
    for (const server of this.servers) await server.kill().catch(() => undefined);
  }
}

/** A free loopback port, so restarts of one scenario listen where the phones reconnect. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Runs a scenario body in a scope; an exception becomes an `error` verdict, never a leaked process. */
export async function runScenario(
  name: string,
  options: RunOptions,
  expectedToFail: string | null,
  body: (scope: ScenarioScope) => Promise<{ failures: string[]; params: Record<string, unknown>; figures: Record<string, unknown> }>,
): Promise<ScenarioResult> {
  const started = performance.now();
  const scope = new ScenarioScope(name, options);
  let out: { failures: string[]; params: Record<string, unknown>; figures: Record<string, unknown> };
  let errored = false;
  try {
    out = await body(scope);
  } catch (error) {
    errored = true;
    out = { failures: [`error: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}`], params: {}, figures: {} };
  } finally {
    await scope.dispose();
  }
  const failed = errored || out.failures.length > 0;
  const verdict: Verdict = expectedToFail !== null ? (failed ? 'expected-fail' : 'unexpected-pass') : errored ? 'error' : failed ? 'fail' : 'pass';
  const result: ScenarioResult = {
    name,
    verdict,
    failures: out.failures,
    expectedToFail,
    params: out.params,
    figures: { ...out.figures, server: scope.serverEvidence() },
    elapsedMs: Math.round(performance.now() - started),
    dir: scope.dir,
  };
  scope.log(`${verdict.toUpperCase()}${out.failures.length ? `: ${out.failures.join('; ')}` : ''}`);
  return result;
}

/** Adds a failure line when `ok` is false. */
export function expect(failures: string[], ok: boolean, what: string): void {
  if (!ok) failures.push(what);
}
