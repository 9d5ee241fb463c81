import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { Deduplicator } from '../pipeline/dedup.js';
import type { Journal } from './journal.js';

export interface DeviceDedupDeps {
  readonly journal: Pick<Journal, 'seedDeviceDedup'>;
  readonly dedup: Deduplicator;
  readonly windowMs: number;
  /** Keys loaded per handshake at most (the newest are kept). */
  readonly limit: number;
  /** A handshake waits at most this long for the keys (store.queryTimeoutMs). */
  readonly timeoutMs: number;
  readonly log: CoreLogger;
}

/**
 * Cluster mode: dedup across nodes. A phone whose node died reconnects to another node and may
 * resend lines the dead node had admitted (or a live node is still answering, after a takeover).
 * At each handshake the device's journal keys of the dedup window, from every node, are loaded
 * into this node's deduplicator before the session releases its first line (the session awaits
 * `load` next to its approval decision). Per device, one indexed query: never a scan of the
 * whole window per reconnecting phone. A store that does not answer in time costs dedup of
 * that phone's resends only; the handshake goes on.
 *
 * What it cannot see: keys the other node admitted in its last group-commit window
 * (journal.commitIntervalMs) before the phone's handshake here, not yet in the store.
 */
export class DeviceDedupLoader {
  constructor(private readonly deps: DeviceDedupDeps) {}

  load(botName: string, deviceId: string): Promise<void> {
    const { deps } = this;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), deps.timeoutMs);
    });
    const seeded = deps.journal.seedDeviceDedup(deps.dedup, botName, deviceId, deps.windowMs, deps.limit);
    return Promise.race([seeded, timeout]).then(
      (result) => {
        if (result === 'timeout') deps.log.warn({ botName, deviceId, timeoutMs: deps.timeoutMs }, 'journal: device dedup keys not loaded in time; a resent line may be processed again');
      },
      (error: unknown) => {
        deps.log.warn({ botName, deviceId, err: reasonOf(error) }, 'journal: device dedup keys could not be loaded; a resent line may be processed again');
      },
    ).finally(() => clearTimeout(timer));
  }
}
