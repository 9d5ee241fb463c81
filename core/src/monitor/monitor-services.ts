import type { BridgeSettings } from '@botbridge/sdk';
import { hostname } from 'node:os';
import type { LogCategories } from '../log-categories.js';
import type { EventBus } from '../events/bridge-events.js';
import { isStoreUnavailable } from '../store/store-errors.js';
import type { ChatLogRow, PingRow, Store, SystemSampleRow } from '../store/types.js';
import { BatchWriter } from './batch-writer.js';
import { RetentionJob } from './retention.js';
import { SystemSampler } from './system-sampler.js';

export interface MonitorServicesOptions {
  readonly settings: BridgeSettings;
  /** The bridge's store once it has started (the writers only write after start). */
  readonly store: () => Store;
  readonly events: EventBus;
  readonly logs: LogCategories;
  /** Live figures for the system sample. */
  readonly activeConnections: () => number;
  readonly queueDepth: () => number;
  /** Whether the store is down (store health): writers spill instead of pushing back. */
  readonly storeDown?: () => boolean;
  /** A writer's buffer is full while the store answers: pause reading from phones. */
  readonly onSaturated?: () => void;
  /** No writer asks for backpressure any more. */
  readonly onUnsaturated?: () => void;
}

/**
 * The writes that may not wait for the store and the periodic monitor jobs: batched chat-log,
 * ping and system-sample writers, the 5-minute system sampler and the retention job. The writers
 * push back (one saturation signal for all three: paused while any of them is full) while the
 * store answers, and spill, then drop (counted and logged), only while it is down.
 */
export class MonitorServices {
  readonly chatLog: BatchWriter<ChatLogRow>;
  readonly pings: BatchWriter<PingRow>;
  private readonly system: BatchWriter<SystemSampleRow>;
  private readonly sampler: SystemSampler;
  private readonly retention: RetentionJob;
  private readonly full = new Set<string>();

  constructor(options: MonitorServicesOptions) {
    const { settings, store, events, logs } = options;
    const saturation = (name: string) => ({
      onSaturated: () => {
        this.full.add(name);
        if (this.full.size === 1) options.onSaturated?.();
      },
      onUnsaturated: () => {
        if (this.full.delete(name) && this.full.size === 0) options.onUnsaturated?.();
      },
    });
    const base = {
      limit: settings.store.writeBufferLimit,
      spillLimit: settings.store.writeSpillLimit,
      flushDelayMs: 50,
      retryDelayMs: 1_000,
      events,
      log: logs.get('store'),
      storeDown: options.storeDown,
      isRetryable: isStoreUnavailable,
    };
    this.chatLog = new BatchWriter<ChatLogRow>({
      ...base,
      ...saturation('chat_log'),
      name: 'chat_log',
      batchSize: settings.store.chatLogBatchSize,
      limitBytes: settings.store.writeBufferBytes,
      sizeOf: chatLogRowBytes,
      write: (rows) => store().insertChatLogs(rows),
    });
    this.pings = new BatchWriter<PingRow>({
      ...base,
      ...saturation('ping'),
      name: 'ping',
      batchSize: 1_000,
      write: (rows) => store().insertPings(rows),
    });
    this.system = new BatchWriter<SystemSampleRow>({
      ...base,
      ...saturation('system'),
      name: 'system',
      batchSize: 50,
      write: (rows) => store().insertSystemSamples(rows),
    });
    this.sampler = new SystemSampler({
      intervalMs: settings.monitor.systemSampleIntervalMs,
      serverName: settings.monitor.serverName ?? hostname(),
      diskPath: settings.monitor.diskPath,
      activeConnections: options.activeConnections,
      queueDepth: options.queueDepth,
      write: (row) => this.system.push(row),
      log: logs.root,
    });
    this.retention = new RetentionJob({ settings: settings.retention, store, events, log: logs.get('store') });
  }

  /** Rows waiting in each writer's buffer. */
  pending(): { chatLog: number; ping: number; system: number } {
    return { chatLog: this.chatLog.pending, ping: this.pings.pending, system: this.system.pending };
  }

  /** Whether any writer asks for backpressure. */
  get saturated(): boolean {
    return this.full.size > 0;
  }

  /**
   * The store's health changed: down lifts backpressure (rows spill instead; phones must still
   * be answered), up retries the buffered rows now instead of at the end of their backoff.
   */
  storeHealthChanged(healthy: boolean): void {
    for (const writer of this.writers()) {
      if (healthy) writer.retryNow();
      writer.updateSaturation();
    }
  }

  private writers(): BatchWriter<unknown>[] {
    return [this.chatLog, this.pings, this.system] as BatchWriter<unknown>[];
  }

  start(): void {
    this.sampler.start();
    this.retention.start();
  }

  /** Stops the periodic jobs and flushes every writer (what cannot be written is counted as dropped). */
  async close(): Promise<void> {
    this.sampler.stop();
    await this.retention.stop();
    await Promise.all(this.writers().map((writer) => writer.close())).catch(() => undefined);
  }
}

/** What a buffered chat-log row holds, roughly: its variable strings at 2 bytes a character plus the fixed fields. */
function chatLogRowBytes(row: ChatLogRow): number {
  return 2 * (row.message.length + row.roomName.length + row.sender.length) + 320;
}
