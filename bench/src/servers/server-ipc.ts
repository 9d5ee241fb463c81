import { writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { Session } from 'node:inspector/promises';
import { IpcChannel, type Message } from '../ipc/channel.js';

/** What a bench server reports about itself; the same shape for the echo baseline and botbridge. */
export interface ServerStats {
  /** process.memoryUsage(), bytes. */
  readonly memory: NodeJS.MemoryUsage;
  /** process.cpuUsage(), microseconds since the process started. */
  readonly cpu: NodeJS.CpuUsage;
  /** process.getActiveResourcesInfo() counted by kind (TCPSocketWrap, Timeout, ...). */
  readonly resources: Readonly<Record<string, number>>;
  /** Whether a full GC ran right before the figures were taken. */
  readonly afterGc: boolean;
  /** Server-specific figures (live connections, counters). */
  readonly app: Readonly<Record<string, unknown>>;
}

export interface StatsRequest extends Message {
  readonly type: 'stats';
  readonly gc: boolean;
}

export interface StatsReply extends Message {
  readonly type: 'stats-reply';
  readonly stats: ServerStats;
}

export interface ReadyMessage extends Message {
  readonly type: 'ready';
  readonly port: number;
  /** botbridge: the admin HTTP server's port (null for echo). */
  readonly httpPort: number | null;
}

/**
 * What a server reports once it has stopped (after botbridge's graceful close flushed every
 * write): its final counters and, for botbridge, the chat-log rows actually in the store.
 */
export interface FinalFigures {
  readonly counters: Readonly<Record<string, number>>;
  /** Rows in kb_chat_logs after close; null for echo or when the store could not be read. */
  readonly chatLogRows: number | null;
}

export interface StoppedMessage extends Message {
  readonly type: 'stopped';
  readonly final: FinalFigures | null;
}

/** Starts V8's sampling profiler in the server's main thread (inspector), for a measured window only. */
export interface ProfileStartRequest extends Message {
  readonly type: 'profile-start';
  readonly intervalUs: number;
}

export interface ProfileStopRequest extends Message {
  readonly type: 'profile-stop';
  /** Where to write the `.cpuprofile` JSON. */
  readonly file: string;
}

export interface HeapSnapshotRequest extends Message {
  readonly type: 'heap-snapshot';
  readonly file: string;
}

export interface ServerHooks {
  readonly appStats: () => Readonly<Record<string, unknown>>;
  readonly stop: () => Promise<FinalFigures | null>;
}

function countResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * Profiling through the inspector rather than --cpu-prof: the profile covers exactly the window
 * the coordinator asks for, not the process's start-up (module loading under tsx) or shutdown.
 */
function serveProfiler(channel: IpcChannel): void {
  const session = new Session();
  session.connect();
  const reply = (type: string, error?: unknown) =>
    void channel.send({ type, error: error === undefined ? null : String(error) }).catch(() => undefined);
  channel.handle<ProfileStartRequest>('profile-start', (request) => {
    session
      .post('Profiler.enable')
      .then(() => session.post('Profiler.setSamplingInterval', { interval: request.intervalUs }))
      .then(() => session.post('Profiler.start'))
      .then(() => reply('profile-started'), (error: unknown) => reply('profile-started', error));
  });
  channel.handle<ProfileStopRequest>('profile-stop', (request) => {
    session
      .post('Profiler.stop')
      .then(({ profile }) => writeFileSync(request.file, JSON.stringify(profile)))
      .then(() => reply('profile-stopped'), (error: unknown) => reply('profile-stopped', error));
  });
}

/**
 * The server process's side of the bench IPC: answers `stats` (optionally after a full GC, which
 * needs --expose-gc) and `stop`. The process exits when the coordinator goes away, so a crashed
 * or interrupted run never leaves a server listening.
 */
export function serveBenchIpc(port: number, hooks: ServerHooks, httpPort: number | null = null): void {
  const channel = new IpcChannel(process, 'server');
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    const final = await hooks.stop().catch((error: unknown) => {
      process.stderr.write(`bench server stop failed: ${String(error)}\n`);
      code = 1;
      return null;
    });
    await channel.send({ type: 'stopped', final } satisfies StoppedMessage).catch(() => undefined);
    process.exit(code);
  };
  channel.handle<StatsRequest>('stats', (request) => {
    const gc = request.gc && typeof globalThis.gc === 'function';
    if (gc) globalThis.gc!();
    const stats: ServerStats = {
      memory: process.memoryUsage(),
      cpu: process.cpuUsage(),
      resources: countResources(),
      afterGc: gc,
      app: hooks.appStats(),
    };
    void channel.send({ type: 'stats-reply', stats } satisfies StatsReply).catch(() => undefined);
  });
  channel.handle('stop', () => void stop(0));
  // Synchronous and slow (seconds for a few hundred MiB): only in investigation runs, never measured ones.
  channel.handle<HeapSnapshotRequest>('heap-snapshot', (request) => {
    let error: string | null = null;
    try {
      writeHeapSnapshot(request.file);
    } catch (e) {
      error = String(e);
    }
    void channel.send({ type: 'heap-snapshot-written', error }).catch(() => undefined);
  });
  serveProfiler(channel);
  process.on('disconnect', () => void stop(0));
  void channel.send({ type: 'ready', port, httpPort } satisfies ReadyMessage);
}
