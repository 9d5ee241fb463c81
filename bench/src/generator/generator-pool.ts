import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IpcChannel, type Message } from '../ipc/channel.js';
import type { Task } from './messages.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** One generator worker process, coordinator side. */
export class GeneratorWorker {
  readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly channel: IpcChannel,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(name: string, task: Task): Promise<GeneratorWorker> {
    const child = fork(WORKER_ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const worker = new GeneratorWorker(child, new IpcChannel(child, name));
    await worker.channel.send({ type: 'task', task });
    return worker;
  }

  send<T extends Message>(message: T): Promise<void> {
    return this.channel.send(message);
  }

  next<T extends Message>(type: T['type'] | readonly T['type'][], timeoutMs?: number): Promise<T> {
    return this.channel.next<T>(type, timeoutMs);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Splits `total` into `parts` near-equal shares (first shares larger). */
export function split(total: number, parts: number): { first: number; count: number }[] {
  const out: { first: number; count: number }[] = [];
  let first = 0;
  for (let i = 0; i < parts; i += 1) {
    const count = Math.floor(total / parts) + (i < total % parts ? 1 : 0);
    out.push({ first, count });
    first += count;
  }
  return out.filter((s) => s.count > 0);
}

/** Runs `fn` with started workers and always reaps them, even when the run fails. */
export async function withWorkers<T>(tasks: readonly Task[], fn: (workers: GeneratorWorker[]) => Promise<T>): Promise<T> {
  const workers: GeneratorWorker[] = [];
  let failed = false;
  try {
    for (const [i, task] of tasks.entries()) workers.push(await GeneratorWorker.start(`generator ${i}`, task));
    return await fn(workers);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // A failed run may leave workers waiting for a message that never comes.
    if (failed) workers.forEach((w) => w.kill());
    const timer = setTimeout(() => workers.forEach((w) => w.kill()), 20_000);
    await Promise.all(workers.map((w) => w.exited));
    clearTimeout(timer);
  }
}
