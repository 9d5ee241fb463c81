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
}

/**
 * The writes that may not wait for the store and the periodic monitor jobs: batched chat-log,
 * ping and system-sample writers (bounded buffers, retried while the store is unavailable,
 * counted when dropped), the 5-minute system sampler and the retention job.
 */
export class MonitorServices {
  readonly chatLog: BatchWriter<ChatLogRow>;
  readonly pings: BatchWriter<PingRow>;
  private readonly system: BatchWriter<SystemSampleRow>;
  private readonly sampler: SystemSampler;
  private readonly retention: RetentionJob;

  constructor(options: MonitorServicesOptions) {
    const { settings, store, events, logs } = options;
    const base = {
      limit: settings.store.writeBufferLimit,
      flushDelayMs: 50,
      retryDelayMs: 1_000,
      events,
      log: logs.get('store'),
      isRetryable: isStoreUnavailable,
    };
    this.chatLog = new BatchWriter<ChatLogRow>({
      ...base,
      name: 'chat_log',
      batchSize: settings.store.chatLogBatchSize,
      write: (rows) => store().insertChatLogs(rows),
    });
    this.pings = new BatchWriter<PingRow>({ ...base, name: 'ping', batchSize: 200, write: (rows) => store().insertPings(rows) });
    this.system = new BatchWriter<SystemSampleRow>({ ...base, name: 'system', batchSize: 50, write: (rows) => store().insertSystemSamples(rows) });
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

  start(): void {
    this.sampler.start();
    this.retention.start();
  }

  /** Stops the periodic jobs and flushes every writer (what cannot be written is counted as dropped). */
  async close(): Promise<void> {
    this.sampler.stop();
    await this.retention.stop();
    await Promise.all([this.chatLog.close(), this.pings.close(), this.system.close()]).catch(() => undefined);
  }
}
