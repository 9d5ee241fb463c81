import { BridgeError, reasonOf } from '../errors.js';
import type { PluginErrorEvent } from '../hooks.js';

/** Where a plugin handler's failure is reported (logged, and published as `plugin:error`, which counts it). */
export type PluginErrorReporter = (event: PluginErrorEvent, error: unknown) => void;

/**
 * Runs `work` and settles within `timeoutMs` (Infinity: no timer), or when `signal` aborts,
 * whichever comes first.
 * The work itself cannot be cancelled; a handler that ignores its signal keeps running, but no
 * caller waits for it any more.
 */
export function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  timeoutError: () => Error,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => finish(() => reject(signal!.reason instanceof Error ? signal!.reason : timeoutError()));
    // No timer at all when only the signal bounds the work (the onMessage hot path).
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(() => reject(timeoutError())), timeoutMs) : undefined;
    timer?.unref?.();
    if (signal) {
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    }
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/** Builds the event reported when a plugin handler throws or misses its deadline. */
export function pluginErrorEvent(plugin: string, hook: string, error: unknown, traceId?: string): PluginErrorEvent {
  const timedOut =
    error instanceof BridgeError &&
    (error.code === 'BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT' || error.code === 'BRIDGE_ERR_PROCESSING_TIMEOUT');
  const code = timedOut ? 'BRIDGE_ERR_PLUGIN_HOOK_TIMEOUT' : 'BRIDGE_ERR_PLUGIN_HOOK';
  const message = timedOut ? reasonOf(error) : new BridgeError(code, { plugin, hook, reason: reasonOf(error) }).message;
  return traceId === undefined ? { plugin, hook, code, message } : { plugin, hook, code, message, traceId };
}
