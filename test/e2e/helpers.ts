import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { definePlugin, type HandlerResult, type MessageContext } from '@botbridge/sdk';
import { createTestBridge, FakeBridgeClient, type FakeClientOptions, type TestBridge, type TestBridgeOptions } from '@botbridge/testing';
import { buildAnalyzeData, buildAuthBlock, buildHandshake, buildLegacyTwin, encodeLine, SCRIPT_SALT, SCRIPT_SECRET_KEY } from '@botbridge/testing/wire';
import type { AnalyzeData, AnalyzeInput } from '@botbridge/testing/wire';

/**
 * Shared pieces of the end-to-end suite: every test runs a real bridge on 127.0.0.1:0 with a
 * fresh SQLite file and talks to it through FakeBridgeClient over real TCP.
 */

export const BOT = 'LOA.i';
export const DEVICE = 'a1b2c3d4e5f60718';
export const CHANNEL = '18445682959392711';

/** Bridges and clients opened by a test are closed after it, even when it fails. */
export function useBridges() {
  const bridges: TestBridge[] = [];
  const clients: FakeBridgeClient[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(bridges.splice(0).map((t) => t.close()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    async bridge(options: TestBridgeOptions = {}): Promise<TestBridge> {
      const t = await createTestBridge(options);
      bridges.push(t);
      return t;
    },
    /** A raw client: connected and handshake written, its answer not awaited. */
    async connect(t: TestBridge, options: Partial<FakeClientOptions> = {}): Promise<FakeBridgeClient> {
      const client = await FakeBridgeClient.connect({ ...options, port: t.port });
      clients.push(client);
      return client;
    },
    /** A temp dir for a store file the test wants to read itself. */
    async tempDir(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), 'botbridge-e2e-'));
      dirs.push(dir);
      return dir;
    },
  };
}

/** A counter of `bridge.stats().counters` (`name{label}`); without label, the sum over labels. */
export function counter(t: TestBridge, name: string, label?: string): number {
  const counters = t.bridge.stats().counters as Record<string, number>;
  if (label !== undefined) return counters[`${name}{${label}}`] ?? 0;
  let sum = 0;
  for (const [key, value] of Object.entries(counters)) if (key === name || key.startsWith(`${name}{`)) sum += value;
  return sum;
}

/**
 * Waits until a counter reaches `expected`, then asserts it. For counters the server bumps when
 * a socket has fully closed, which can be after the client already saw EOF.
 */
export async function expectCounter(t: TestBridge, name: string, label: string | undefined, expected: number): Promise<void> {
  await eventually(`counter ${name}{${label ?? '*'}} = ${expected}`, () => counter(t, name, label) === expected, 3_000, () => t.bridge.stats().counters).catch(() => undefined);
  expect(counter(t, name, label)).toBe(expected);
}

/** Waits until no handshaken client is registered (the registry is cleared on socket close). */
export async function expectNoClients(t: TestBridge): Promise<void> {
  await eventually('no client left', () => t.bridge.clients().length === 0).catch(() => undefined);
  expect(t.bridge.clients()).toEqual([]);
}

/** Polls until `probe` returns true; the error names what was awaited and the last state seen. */
export async function eventually(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 3_000, describe?: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) {
      const state = describe ? `; last state: ${JSON.stringify(describe())}` : '';
      throw new Error(`${what}: not true within ${timeoutMs} ms${state}`);
    }
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Replies `에코: <text>` to every message. */
export const echoPlugin = definePlugin({
  name: 'e2e-echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => `에코: ${message.text}`);
  },
});

/** Replies `len:<text length>` (for texts too long to echo back). */
export const lengthPlugin = definePlugin({
  name: 'e2e-length',
  setup(ctx) {
    ctx.onMessage(({ message }) => `len:${message.text.length}`);
  },
});

/** A plugin from one onMessage handler. */
export function handlerPlugin(name: string, handler: (ctx: MessageContext) => Promise<HandlerResult> | HandlerResult) {
  return definePlugin({
    name,
    setup(ctx) {
      ctx.onMessage(handler);
    },
  });
}

/** Config that makes the session's clocks fast enough for tests. */
export const fastSession = { handshakeTimeoutMs: 300, pingIntervalMs: 200, pingJitterMs: 0 } as const;

/** The default full handshake line of the fake client. */
export function handshakeLine(botName = BOT, deviceID = DEVICE): string {
  return encodeLine(
    buildHandshake(
      { clientType: 'MessengerBotR', botName, version: '3.2.1', deviceID, deviceIP: '192.168.0.23', deviceInfo: 'samsung SM-G991N (Android 13, API 33)' },
      'full',
    ),
  );
}

let logIdSeq = 0n;

/** The `data` of a validly signed analyze packet, built without a client (for exact byte tests). */
export function signedAnalyze(input: AnalyzeInput, identity: { botName?: string; deviceID?: string } = {}): Record<string, unknown> {
  const botName = identity.botName ?? BOT;
  const now = new Date();
  logIdSeq += 1n;
  const data = buildAnalyzeData(input, { botName, clientType: 'MessengerBotR', logId: String(8_000_000_000_000_000_000n + logIdSeq), now });
  const auth = buildAuthBlock(
    { clientType: 'MessengerBotR', botName, deviceUUID: 'unknown', deviceID: identity.deviceID ?? DEVICE, macAddress: '02:00:00:00:00:00', ipAddress: '192.168.0.23', version: '3.2.1' },
    now.getTime(),
    { secretKey: SCRIPT_SECRET_KEY, salt: SCRIPT_SALT },
  );
  return { ...data, auth };
}

/** The legacy `response()` twin of a line, signed like the script signs it. */
export function legacyTwinOf(data: Record<string, unknown>): Record<string, unknown> {
  const twin = buildLegacyTwin(data as unknown as AnalyzeData);
  return { ...twin, auth: authBlockFor(twin.botName, DEVICE) };
}

export function analyzeLine(data: object, terminator = '\n'): string {
  return `${JSON.stringify({ event: 'analyze', data })}${terminator}`;
}

/** A validly signed auth block for an arbitrary identity (e.g. another bot's name). */
export function authBlockFor(botName: string, deviceID: string) {
  return buildAuthBlock(
    { clientType: 'MessengerBotR', botName, deviceUUID: 'unknown', deviceID, macAddress: '02:00:00:00:00:00', ipAddress: '192.168.0.23', version: '3.2.1' },
    Date.now(),
    { secretKey: SCRIPT_SECRET_KEY, salt: SCRIPT_SALT },
  );
}
