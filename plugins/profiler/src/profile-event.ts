import type { MessageOutcome } from '@botbridge/sdk';

/** One stage of a message profile ('profile:message'). */
export interface ProfileStage {
  /**
   * queue (behind earlier messages of the room), concurrency (waiting for a slot), core (room
   * approval, hook plumbing), onReceive, onMessage, beforeReply (per plugin), hold (reply waiting
   * for earlier messages of the room and the reply gap), send, other (not covered by any event).
   */
  readonly stage: 'queue' | 'concurrency' | 'core' | 'onReceive' | 'onMessage' | 'beforeReply' | 'hold' | 'send' | 'other';
  /** The plugin for onMessage and beforeReply, else null. */
  readonly plugin: string | null;
  readonly ms: number;
}

/** The profiler's event, declared by module augmentation: it is the profiler's, not the core's. */
declare module '@botbridge/sdk' {
  interface BridgeEventMap {
    /**
     * Where one message's time went, from admission to its last reply. The stages partition
     * `totalMs`: each instant is counted once, for the innermost stage running then (a
     * beforeReply inside an onMessage handler counts as beforeReply).
     */
    'profile:message': {
      readonly bridge: string;
      readonly traceId: string;
      readonly botName: string;
      readonly room: string;
      /** The command word (`# echo`), or null for a line that is no command. */
      readonly command: string | null;
      readonly outcome: MessageOutcome;
      readonly totalMs: number;
      readonly stages: readonly ProfileStage[];
      /** At or above the profiler's slow-message threshold. */
      readonly slow: boolean;
      readonly at: number;
    };
  }
}
