import { afterEach } from 'vitest';
import type { PluginEntry } from '@botbridge/sdk';
import { createTestBridge, FakeBridgeClient, type FakeClientOptions, type TestBridge, type TestBridgeOptions } from '@botbridge/testing';
import { createAdminServer, type AdminAddress, type AdminServer, type HttpSettings } from '../../src/http/index.js';

/**
 * A real bridge (createTestBridge: 127.0.0.1:0, temp SQLite) with its admin server. Tests use
 * `admin.app.inject` for routes, or `listen: true` for real sockets (WebSocket, browser).
 */

export const TOKEN = 'test-admin-token-0123456789abcdef';
export const BEARER = { authorization: `Bearer ${TOKEN}` } as const;

export interface AdminFixture {
  readonly t: TestBridge;
  readonly admin: AdminServer;
  /** Set when started with `listen: true`. */
  readonly address: AdminAddress | null;
  client(options?: Partial<FakeClientOptions>): Promise<FakeBridgeClient>;
}

export interface StartOptions {
  readonly plugins?: readonly PluginEntry[];
  readonly autoApprove?: boolean;
  readonly http?: Partial<HttpSettings>;
  readonly listen?: boolean;
  readonly config?: TestBridgeOptions['config'];
  /** Log at info into the test bridge's `logs` (and the logger's tail) instead of staying silent. */
  readonly captureLogs?: boolean;
}

export function useAdmin() {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    async start(options: StartOptions = {}): Promise<AdminFixture> {
      const t = await createTestBridge({ plugins: options.plugins ?? [], autoApprove: options.autoApprove ?? true, config: options.config, captureLogs: options.captureLogs });
      cleanups.push(() => t.close());
      const admin = await createAdminServer({ bridge: t.bridge, http: { adminToken: TOKEN, port: 0, ...options.http } });
      cleanups.push(() => admin.close());
      const address = options.listen === true ? await admin.listen() : null;
      const clients: FakeBridgeClient[] = [];
      cleanups.push(async () => {
        await Promise.all(clients.map((c) => c.close()));
      });
      return {
        t,
        admin,
        address,
        async client(clientOptions = {}) {
          const client = await FakeBridgeClient.connect({ ...clientOptions, port: t.port });
          clients.push(client);
          await client.handshake;
          return client;
        },
      };
    },
    /** Registers extra cleanup (sockets a test opened itself). */
    defer(cleanup: () => Promise<void> | void): void {
      cleanups.push(async () => cleanup());
    },
  };
}

/** Polls until `probe` is true; names what was awaited when it is not within the time. */
export async function eventually(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
