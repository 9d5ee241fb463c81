import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createBridge, createLogger, type Bridge } from '@botbridge/core';
import { createTestDatabase, supportsTestDatabase, type TestDatabase } from '@botbridge/core/test-support';
import type { ApprovalStatus, BotConfigDocument, BotConfigResult, BridgeConfig, PluginEntry } from '@botbridge/sdk';
import { FakeBridgeClient, type FakeClientOptions } from './fake-client.js';

export interface TestBridgeOptions {
  readonly plugins?: readonly PluginEntry[];
  /** Merged section by section over the test defaults (loopback, port 0, temp SQLite, silent logs). */
  readonly config?: Omit<BridgeConfig, 'plugins'>;
  /** Approve devices and rooms on first contact (default true, so a plugin test needs no setup). */
  readonly autoApprove?: boolean;
  /**
   * Keep the bridge's log lines in `logs` (parsed JSON objects) instead of discarding them, at
   * `config.log.level` (default `info`; `log.categories` apply too).
   */
  readonly captureLogs?: boolean;
  /** A cluster node id for the bridge's journal (failover tests: two bridges on one store). */
  readonly nodeId?: string;
}

/** One structured log line (pino): `level` (number), `msg`, `category` and the logged fields. */
export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string; readonly level: number };

export interface TestBridge {
  readonly port: number;
  readonly bridge: Bridge;
  /** The store URL the bridge runs on (for a test that inspects the tables itself). */
  readonly storeUrl: string;
  /** Connects a fake bridge script and waits for the server's handshake answer. */
  client(options?: Partial<FakeClientOptions>): Promise<FakeBridgeClient>;
  setDeviceStatus(botName: string, deviceId: string, status: ApprovalStatus): Promise<void>;
  setRoomStatus(botName: string, channelId: string, status: ApprovalStatus): Promise<void>;
  /**
   * Applies a per-bot settings document for `botName` at once, as a per-bot config source would
   * (validated the same way; an invalid one changes nothing and its issues are returned).
   */
  setBotConfig(botName: string, document: BotConfigDocument): BotConfigResult;
  /** Captured log lines, oldest first (empty unless `captureLogs`). */
  readonly logs: readonly LogLine[];
  /** The same lines as written, unparsed (JSON.parse hides a key written twice; these do not). */
  readonly rawLogs: readonly string[];
  /**
   * Resolves with the first captured line (already logged or still to come) whose `msg` equals
   * or matches `match`, or for which `match` returns true; rejects after `timeoutMs`.
   */
  waitForLog(match: string | RegExp | ((line: LogLine) => boolean), timeoutMs?: number): Promise<LogLine>;
  close(): Promise<void>;
}

/**
 * A real bridge on 127.0.0.1:0 with a fresh SQLite file, for plugin and end-to-end tests.
 * BOTBRIDGE_TEST_STORE swaps the store: a `mysql://user:pass@host:port/prefix` URL gives every
 * test bridge a fresh database `<prefix>_<random>` on that server, dropped at close (test files
 * run in parallel and never share tables); any other URL is used as is.
 */
export async function createTestBridge(options: TestBridgeOptions = {}): Promise<TestBridge> {
  const dir = await mkdtemp(join(tmpdir(), 'botbridge-test-'));
  const user = options.config ?? {};
  const fromEnv = process.env.BOTBRIDGE_TEST_STORE;
  let database: TestDatabase | undefined;
  if (user.store?.url === undefined && fromEnv !== undefined && supportsTestDatabase(fromEnv)) database = await createTestDatabase(fromEnv);
  const storeUrl = user.store?.url ?? database?.url ?? fromEnv ?? `sqlite:${join(dir, 'bridge.db')}`;
  const cleanup = async () => {
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  };
  const config: BridgeConfig = {
    ...user,
    listen: { host: '127.0.0.1', ...user.listen, port: user.listen?.port ?? 0 },
    store: { ...user.store, url: storeUrl },
    log: { level: 'silent', ...user.log },
    approval: { ...user.approval, autoApprove: options.autoApprove ?? user.approval?.autoApprove ?? true },
    shutdown: { graceMs: 2_000, ...user.shutdown },
    plugins: options.plugins ?? [],
  };
  const logs: LogLine[] = [];
  const rawLogs: string[] = [];
  const waiters = new Set<(line: LogLine) => void>();
  const logger = options.captureLogs
    ? createLogger({ level: user.log?.level ?? 'info' }, new LineSink((line, raw) => {
        logs.push(line);
        rawLogs.push(raw);
        for (const waiter of [...waiters]) waiter(line);
      }))
    : undefined;
  let bridge: Bridge;
  let port: number;
  try {
    bridge = createBridge({ config, ...(logger === undefined ? {} : { logger }), ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }) });
    ({ port } = await bridge.start());
  } catch (error) {
    // An invalid config throws from createBridge: the test database must not outlive it.
    await cleanup();
    throw error;
  }
  const clients = new Set<FakeBridgeClient>();

  return {
    port,
    bridge,
    storeUrl,
    async client(clientOptions = {}) {
      const client = await FakeBridgeClient.connect({ ...clientOptions, port });
      clients.add(client);
      await client.handshake;
      return client;
    },
    async setDeviceStatus(botName, deviceId, status) {
      await bridge.admin.setDeviceStatus(botName, deviceId, status, { register: true });
    },
    async setRoomStatus(botName, channelId, status) {
      await bridge.admin.setRoomStatus(botName, channelId, status, { register: true });
    },
    setBotConfig(botName, document) {
      return bridge.admin.applyBotConfig(botName, document);
    },
    logs,
    rawLogs,
    waitForLog(match, timeoutMs = 5_000) {
      const test = typeof match === 'function' ? match : (line: LogLine) => (typeof match === 'string' ? line.msg === match : match.test(line.msg ?? ''));
      const seen = logs.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<LogLine>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no log line matching ${String(match)} within ${timeoutMs} ms${options.captureLogs ? '' : ' (captureLogs is off)'}`));
        }, timeoutMs);
        const waiter = (line: LogLine) => {
          if (!test(line)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(line);
        };
        waiters.add(waiter);
      });
    },
    async close() {
      await Promise.all([...clients].map((c) => c.close()));
      await bridge.close();
      await cleanup();
    },
  };
}

/** A pino destination that hands each JSON line, parsed and as written, to `onLine`. */
class LineSink extends Writable {
  private rest = '';

  constructor(private readonly onLine: (line: LogLine, raw: string) => void) {
    super();
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const lines = (this.rest + chunk.toString()).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) if (line.length > 0) this.onLine(JSON.parse(line) as LogLine, line);
    done();
  }
}
