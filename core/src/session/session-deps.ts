import type { BridgeSettings } from '@botbridge/sdk';
import type { ApprovalCache } from '../approval/approval-cache.js';
import type { StoreHealthView } from '../store/store-health.js';
import type { EventBus } from '../events/bridge-events.js';
import type { BridgeHooks } from '../hooks.js';
import type { LogCategories } from '../log-categories.js';
import type { CoreLogger } from '../logger.js';
import type { Counters } from '../metrics/counters.js';
import type { AnalyzePacket, PingAnswerPacket } from '../protocol/packets.js';
import type { AuthGuard } from './auth-guard.js';
import type { ClientSession } from './client-session.js';
import type { SessionRegistry } from './session-registry.js';

/** What a session needs from the rest of the bridge (wired by the bridge, the composition root). */
export interface SessionDeps {
  readonly settings: BridgeSettings;
  readonly approvals: ApprovalCache;
  /** Whether the store answers; handshakes are never approved while it does not. */
  readonly storeHealth: StoreHealthView;
  readonly registry: SessionRegistry;
  readonly hooks: BridgeHooks;
  readonly events: EventBus;
  readonly auth: AuthGuard;
  readonly counters: Counters;
  /** Category `connection`; handshake and ping lines go to their categories through `logs`. */
  readonly log: CoreLogger;
  readonly logs: LogCategories;
  readonly serverVersion: string;
  readonly admission: {
    admit(session: ClientSession, packet: AnalyzePacket): void;
    /** A replay of a line with a logId, refused by the auth guard: reported as a dedup duplicate. */
    dropDuplicate(session: ClientSession, packet: AnalyzePacket): void;
  };
  readonly pings: { record(session: ClientSession, packet: PingAnswerPacket, receivedAt: number): void };
  /**
   * journal: admits the device's unfinished messages from before a restart (JournalReplay), run
   * synchronously once the session is ready and approved, before any line of its own is admitted.
   */
  readonly journalReplay?: { admitBefore(session: ClientSession): void };
  /**
   * Cluster mode: loads the device's journal keys (from every node) into the deduplicator; the
   * handshake awaits it before the first line is admitted (journal/device-dedup.ts). Never rejects.
   */
  readonly deviceDedup?: { load(botName: string, deviceId: string): Promise<void> };
  /**
   * Cluster mode: when the device's previous node is gone, its unanswered rows of this device
   * are claimed here and handed to `journalReplay` before the session is ready, so they are
   * admitted ahead of the phone's fresh lines. The handshake awaits it (bounded). Never rejects.
   */
  readonly deviceTakeover?: (botName: string, deviceId: string) => Promise<void>;
  /** The session completed its handshake (frees its handshake slot, applies queue backpressure). */
  onReady(session: ClientSession): void;
  /** The connection closed; `wasReady` tells whether it had completed the handshake. */
  onClosed(session: ClientSession, wasReady: boolean, reason: string): void;
}
