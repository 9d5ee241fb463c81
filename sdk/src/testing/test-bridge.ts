import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBridge, type Bridge } from '@botbridge/core';
import type { BridgeConfig, PluginEntry } from '../plugin.js';
import type { ApprovalStatus } from '../types.js';
import { FakeBridgeClient, type FakeClientOptions } from './fake-client.js';

export interface TestBridgeOptions {
  readonly plugins?: readonly PluginEntry[];
  /** Merged section by section over the test defaults (loopback, port 0, temp SQLite, silent logs). */
  readonly config?: Omit<BridgeConfig, 'plugins'>;
  /** Approve devices and rooms on first contact (default true, so a plugin test needs no setup). */
  readonly autoApprove?: boolean;
}

export interface TestBridge {
  readonly port: number;
  readonly bridge: Bridge;
  /** Connects a fake bridge script and waits for the server's handshake answer. */
  client(options?: Partial<FakeClientOptions>): Promise<FakeBridgeClient>;
  setDeviceStatus(botName: string, deviceId: string, status: ApprovalStatus): Promise<void>;
  setRoomStatus(botName: string, channelId: string, status: ApprovalStatus): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real bridge on 127.0.0.1:0 with a fresh SQLite file, for plugin and end-to-end tests. The
 * store can be swapped for another URL with BOTBRIDGE_TEST_STORE (e.g. a MySQL test database).
 */
export async function createTestBridge(options: TestBridgeOptions = {}): Promise<TestBridge> {
  const dir = await mkdtemp(join(tmpdir(), 'botbridge-test-'));
  const user = options.config ?? {};
  const config: BridgeConfig = {
    ...user,
    listen: { host: '127.0.0.1', ...user.listen, port: user.listen?.port ?? 0 },
    store: { ...user.store, url: user.store?.url ?? process.env.BOTBRIDGE_TEST_STORE ?? `sqlite:${join(dir, 'bridge.db')}` },
    log: { level: 'silent', ...user.log },
    approval: { ...user.approval, autoApprove: options.autoApprove ?? user.approval?.autoApprove ?? true },
    shutdown: { graceMs: 2_000, ...user.shutdown },
    plugins: options.plugins ?? [],
  };
  const bridge = createBridge({ config });
  const { port } = await bridge.start();
  const clients = new Set<FakeBridgeClient>();

  return {
    port,
    bridge,
    async client(clientOptions = {}) {
      const client = await FakeBridgeClient.connect({ ...clientOptions, port });
      clients.add(client);
      await client.handshake;
      return client;
    },
    async setDeviceStatus(botName, deviceId, status) {
      const found = await bridge.approvals.setDeviceStatus(botName, deviceId, status);
      if (!found) {
        await bridge.store.registerDevice({ botName, deviceId, ipAddress: null, clientType: null, clientVersion: null, initialStatus: status });
        await bridge.approvals.reload();
      }
    },
    async setRoomStatus(botName, channelId, status) {
      const found = await bridge.approvals.setRoomStatus(botName, channelId, status);
      if (!found) await bridge.store.registerRoom({ botName, roomId: channelId, roomName: channelId, initialStatus: status });
    },
    async close() {
      await Promise.all([...clients].map((c) => c.close()));
      await bridge.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
