import type { ChildProcess } from 'node:child_process';

/** Every bench IPC message is a plain object with a `type` (sent with `serialization: 'advanced'`). */
export interface Message {
  readonly type: string;
}

type Endpoint = ChildProcess | NodeJS.Process;

interface Waiter {
  readonly types: readonly string[];
  readonly resolve: (message: Message) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout | undefined;
}

/**
 * Request/response over a fork() IPC channel, from either side. Messages nobody waits for yet
 * are kept in order, so `next(type)` never misses one that arrived early. When the other side
 * goes away every waiter is rejected, so a crashed process fails the run instead of hanging it.
 */
export class IpcChannel {
  private readonly inbox: Message[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly handlers = new Map<string, (message: Message) => void>();
  private gone: Error | null = null;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly name: string,
  ) {
    endpoint.on('message', (message: Message) => this.deliver(message));
    endpoint.on('disconnect', () => this.fail(new Error(`${name}: IPC channel closed`)));
    if ('pid' in endpoint && endpoint !== process) {
      (endpoint as ChildProcess).on('exit', (code, signal) => this.fail(new Error(`${name} exited (code ${code}, signal ${signal})`)));
    }
  }

  send<T extends Message>(message: T): Promise<void> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise((resolve, reject) => {
      this.endpoint.send!(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  }

  /** The next message of `type`, or of any of several types (an earlier unclaimed one first). */
  next<T extends Message>(type: T['type'] | readonly T['type'][], timeoutMs?: number): Promise<T> {
    const types: readonly string[] = typeof type === 'string' ? [type] : type;
    const index = this.inbox.findIndex((m) => types.includes(m.type));
    if (index !== -1) return Promise.resolve(this.inbox.splice(index, 1)[0] as T);
    if (this.gone) return Promise.reject(this.gone);
    return new Promise<T>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.removeWaiter(waiter);
              reject(new Error(`${this.name}: no '${types.join("' or '")}' message within ${timeoutMs} ms`));
            }, timeoutMs);
      const waiter: Waiter = { types, resolve: resolve as (m: Message) => void, reject, timer };
      this.waiters.push(waiter);
    });
  }

  /** Handles every message of `type` as it arrives (server side: stats, stop). */
  handle<T extends Message>(type: T['type'], handler: (message: T) => void): void {
    this.handlers.set(type, handler as (m: Message) => void);
  }

  private deliver(message: Message): void {
    const handler = this.handlers.get(message.type);
    if (handler) {
      handler(message);
      return;
    }
    const waiter = this.waiters.find((w) => w.types.includes(message.type));
    if (!waiter) {
      this.inbox.push(message);
      return;
    }
    this.removeWaiter(waiter);
    waiter.resolve(message);
  }

  private removeWaiter(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) this.waiters.splice(index, 1);
  }

  private fail(error: Error): void {
    if (this.gone) return;
    this.gone = error;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
