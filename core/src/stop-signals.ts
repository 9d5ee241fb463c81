import { reasonOf } from './errors.js';
import { flushLogger, type CoreLogger } from './logger.js';

/**
 * A second signal this soon after the first is the same request: a terminal's Ctrl-C reaches
 * every process of the foreground group, so under `npm start` the server gets SIGINT from the
 * terminal and npm's forwarded copy within milliseconds.
 */
const SAME_REQUEST_MS = 1_000;
/** How often the parent is checked when a package manager started us. */
const PARENT_POLL_MS = 500;
/** A forced exit waits at most this long for the log lines to be written. */
const FORCED_EXIT_FLUSH_MS = 500;

export interface StopSignalOptions {
  readonly log: CoreLogger;
  /** The graceful stop (drain, flush, close). */
  readonly stop: () => Promise<void>;
  /** process.exit; replaced in tests. */
  readonly exit?: (code: number) => void;
  /**
   * The parent to watch: when it is gone, stop as on SIGTERM. Given when npm started us
   * (`npm_lifecycle_event` is set), see `packageManagerParent`.
   */
  readonly parentPid?: number | null;
}

/**
 * `botbridge start`'s signal handling. SIGTERM or SIGINT stops gracefully and resolves with exit
 * code 0 (1 when the stop failed); a second signal (more than SAME_REQUEST_MS later) exits at
 * once with code 1. The watched parent's death counts as the first signal: `npx botbridge
 * start` runs us under `sh -c`, and npm forwards its SIGTERM to that shell, which dies without
 * passing it on, leaving us running and holding the ports.
 */
export function runUntilStopped(options: StopSignalOptions): Promise<number> {
  const { log } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  return new Promise<number>((resolve) => {
    let firstAt = 0;
    let parentTimer: NodeJS.Timeout | undefined;
    const request = (why: string) => {
      const now = performance.now();
      if (firstAt !== 0) {
        if (now - firstAt < SAME_REQUEST_MS) {
          log.debug({ signal: why }, 'repeated stop request ignored (same request)');
          return;
        }
        log.warn({ signal: why }, 'second signal: exiting now without finishing the drain');
        void withinMs(flushLogger(log), FORCED_EXIT_FLUSH_MS).then(() => exit(1));
        return;
      }
      firstAt = now;
      clearInterval(parentTimer);
      log.info({ signal: why }, 'shutting down');
      options.stop().then(
        () => {
          process.off('SIGTERM', request);
          process.off('SIGINT', request);
          resolve(0);
        },
        (error: unknown) => {
          log.error({ err: reasonOf(error) }, 'shutdown failed');
          void flushLogger(log).then(() => resolve(1));
        },
      );
    };
    process.on('SIGTERM', request);
    process.on('SIGINT', request);
    const parentPid = options.parentPid;
    if (parentPid != null) {
      parentTimer = setInterval(() => {
        if (!isAlive(parentPid)) request('parent-exited');
      }, PARENT_POLL_MS);
      parentTimer.unref();
    }
  });
}

/** Our parent when a package manager's script (npm start, npx) started us; else null. */
export function packageManagerParent(env: NodeJS.ProcessEnv = process.env): number | null {
  return env.npm_lifecycle_event !== undefined && process.ppid > 1 ? process.ppid : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
