import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IpcChannel } from '../ipc/channel.js';
import type { FinalFigures, ReadyMessage, ServerStats, StatsReply, StoppedMessage } from './server-ipc.js';

export type ServerKind = 'echo' | 'botbridge';

export interface ServerSpec {
  readonly kind: ServerKind;
  /** BENCH_* variables for the config (caps, ping interval, store URL). */
  readonly env: Readonly<Record<string, string>>;
  /** stdout and stderr of the server go here (botbridge's JSON log lines). */
  readonly logFile: string;
}

/** BENCH_BRIDGE_ENTRY: another checkout's bridge-server.ts (A/B runs, bench/micro/ab.ts); read at each start. */
const ENTRY: Record<ServerKind, () => string> = {
  echo: () => fileURLToPath(new URL('./echo-server.ts', import.meta.url)),
  botbridge: () => process.env.BENCH_BRIDGE_ENTRY ?? fileURLToPath(new URL('./bridge-server.ts', import.meta.url)),
};

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * A bench server in its own process (coordinator side). Servers run under tsx like
 * `botbridge start` does; --expose-gc lets `stats({ gc: true })` measure memory after a full GC.
 */
export class ServerProcess {
  private constructor(
    readonly kind: ServerKind,
    readonly port: number,
    /** botbridge's admin HTTP port (metrics), null for echo. */
    readonly httpPort: number | null,
    private readonly child: ChildProcess,
    private readonly channel: IpcChannel,
  ) {}

  static async start(spec: ServerSpec): Promise<ServerProcess> {
    // BENCH_SERVER_NODE_FLAGS: extra Node/V8 flags for the server only (memory experiments).
    const extra = process.env.BENCH_SERVER_NODE_FLAGS?.split(' ').filter((f) => f !== '') ?? [];
    const execArgv = ['--import', 'tsx', '--expose-gc', ...extra];
    const log = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = fork(ENTRY[spec.kind](), [], {
        execArgv,
        env: { ...process.env, ...spec.env },
        stdio: ['ignore', log, log, 'ipc'],
        serialization: 'advanced',
      });
    } finally {
      closeSync(log);
    }
    const channel = new IpcChannel(child, `${spec.kind} server`);
    try {
      const ready = await channel.next<ReadyMessage>('ready', START_TIMEOUT_MS);
      return new ServerProcess(spec.kind, ready.port, ready.httpPort ?? null, child, channel);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${spec.kind} server did not start (see ${spec.logFile}): ${(error as Error).message}`);
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async stats(gc = false): Promise<ServerStats> {
    await this.channel.send({ type: 'stats', gc });
    return (await this.channel.next<StatsReply>('stats-reply', 30_000)).stats;
  }

  /** Starts the sampling profiler in the server (every `intervalUs` µs). */
  async startProfile(intervalUs = 200): Promise<void> {
    await this.channel.send({ type: 'profile-start', intervalUs });
    const { error } = await this.channel.next<{ type: 'profile-started'; error: string | null }>('profile-started', 30_000);
    if (error) throw new Error(`profiler did not start: ${error}`);
  }

  /** Stops the profiler and writes the `.cpuprofile` to `file`. */
  async stopProfile(file: string): Promise<void> {
    await this.channel.send({ type: 'profile-stop', file });
    const { error } = await this.channel.next<{ type: 'profile-stopped'; error: string | null }>('profile-stopped', 60_000);
    if (error) throw new Error(`profiler did not stop: ${error}`);
  }

  /** Writes a V8 heap snapshot of the server's main thread to `file` (a `.heapsnapshot`, for DevTools). */
  async heapSnapshot(file: string): Promise<void> {
    await this.channel.send({ type: 'heap-snapshot', file });
    const { error } = await this.channel.next<{ type: 'heap-snapshot-written'; error: string | null }>('heap-snapshot-written', 120_000);
    if (error) throw new Error(`heap snapshot failed: ${error}`);
  }

  /**
   * Graceful stop (the bridge's phased close); SIGKILL if it does not exit in time. Resolves with
   * the server's final figures (null if it died or did not report them).
   */
  async stop(): Promise<FinalFigures | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return null;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const stopped = this.channel.next<StoppedMessage>('stopped', STOP_TIMEOUT_MS).then((m) => m.final, () => null);
    await this.channel.send({ type: 'stop' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const final = await stopped;
    await exited;
    clearTimeout(timer);
    return final;
  }
}
