import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { BridgeSettings } from '@botbridge/sdk';

export type CoreLogger = PinoLogger;

/** Log lines are handed to the OS in chunks of about this many bytes… */
export const LOG_CHUNK_BYTES = 4_096;
/** …or at most this long after they were logged, whichever comes first. */
export const LOG_FLUSH_DELAY_MS = 100;

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * Where JSON log lines go (stdout): written asynchronously, in chunks. A log call only appends
 * the line to a buffer; the buffer goes to an asynchronous pino destination (sonic-boom,
 * `sync: false`) once it holds LOG_CHUNK_BYTES, or LOG_FLUSH_DELAY_MS after its first line, so
 * a busy server makes one write per few dozen lines instead of a blocking write per line, and a
 * quiet one still shows each line within 0.1 s.
 *
 * The minimum chunk length is kept here rather than as sonic-boom's `minLength`: its `flush()`
 * during a write in flight leaves the tail below `minLength` unwritten, so it cannot back a
 * guaranteed flush. `flush(cb)` here calls back once every line logged before it has been
 * written (Bridge.close() waits for it); at process exit the rest is written synchronously.
 */
export class AsyncLogDestination {
  readonly #dest: SonicBoom;
  #buffer = '';
  #timer: NodeJS.Timeout | undefined;
  /** Handed to sonic-boom and not yet drained. */
  #writing = false;
  #waiters: ((error?: Error) => void)[] = [];

  constructor(fd = 1) {
    this.#dest = pino.destination({ dest: fd, sync: false });
    this.#dest.on('drain', () => this.#drained());
    this.#dest.on('error', (error: Error) => {
      process.stderr.write(`botbridge: writing the log failed: ${error.message}\n`);
      this.#drained(error);
    });
  }

  write(line: string): void {
    this.#buffer += line;
    if (this.#buffer.length >= LOG_CHUNK_BYTES) {
      this.#hand();
    } else if (this.#timer === undefined) {
      pending.add(this);
      this.#timer = setTimeout(() => this.#hand(), LOG_FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }

  /** Calls back once everything logged so far has been written (or writing it failed). */
  flush(cb: (error?: Error) => void = () => {}): void {
    this.#hand();
    if (this.#writing) this.#waiters.push(cb);
    else cb();
  }

  /** Writes everything logged so far before returning (exit paths, where no callback would run). */
  flushSync(): void {
    this.#hand();
    try {
      this.#dest.flushSync();
    } catch {
      // Destroyed or not ready: nothing more can be written.
    }
  }

  /** At `beforeExit`: hands the buffer over while the event loop can still write it. */
  handOver(): void {
    this.#hand();
  }

  #hand(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    pending.delete(this);
    if (this.#buffer === '') return;
    const chunk = this.#buffer;
    this.#buffer = '';
    this.#writing = true;
    try {
      this.#dest.write(chunk);
    } catch (error) {
      this.#drained(error as Error);
    }
  }

  #drained(error?: Error): void {
    this.#writing = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter(error);
  }
}

/** Destinations holding lines not yet handed to sonic-boom (their timer is unref'd). */
const pending = new Set<AsyncLogDestination>();
// Registered when this module loads, before any destination exists, so these run before pino's
// own exit handling of the sonic-boom streams (which ends them at beforeExit).
process.on('beforeExit', () => {
  for (const destination of [...pending]) destination.handOver();
});
process.on('exit', () => {
  for (const destination of [...pending]) destination.flushSync();
});

/**
 * Structured JSON logs (pino). Secrets never reach a log line: auth blocks, signatures, secret
 * keys and salts are redacted wherever they appear in logged objects.
 */
export function createLogger(
  settings: Pick<BridgeSettings['log'], 'level' | 'pretty'>,
  destination?: NodeJS.WritableStream,
  /** Extra base fields of every line (cluster mode: `node`, the node id). */
  base: Record<string, string> = {},
): CoreLogger {
  const options = {
    level: settings.level,
    base: { service: 'botbridge', ...base },
    redact: {
      paths: ['auth', '*.auth', 'signature', '*.signature', 'secretKey', '*.secretKey', 'salt', '*.salt', 'password', '*.password'],
      censor: '[redacted]',
    },
  };
  if (destination) return pino(options, destination as pino.DestinationStream);
  // Human-readable lines on a terminal, JSON lines everywhere else (files, log shippers).
  if (settings.pretty ?? process.stdout.isTTY === true) {
    return pino(options, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  }
  return pino(options, new AsyncLogDestination(1));
}

/**
 * Waits until every line `log` has logged so far is written, at most `timeoutMs` (a destination
 * that cannot write, e.g. a closed pipe, must not hold up a shutdown). Loggers whose destination
 * has no flush (tests' streams, synchronous destinations) resolve at once.
 */
export function flushLogger(log: CoreLogger, timeoutMs = 2_000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    try {
      log.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
