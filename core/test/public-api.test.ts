import { describe, expect, it } from 'vitest';
import * as core from '@botbridge/core';

/**
 * What programs that embed botbridge import from `@botbridge/core`: the bridge, config loading,
 * errors, the store opener and the logger. Hooks, counters, sessions and the other parts are
 * internal (plugins reach the extension surface through the sdk, tools through `bridge.admin`).
 * A change here is a deliberate API change: update the list and the CHANGELOG.
 */
describe('core public API', () => {
  it('exports exactly these runtime values', () => {
    expect(Object.keys(core).sort()).toEqual([
      'Bridge',
      'BridgeError',
      'SERVER_VERSION',
      'createBridge',
      'createLogger',
      'errorCatalogue',
      'isBridgeError',
      'loadBridgeConfig',
      'openStore',
      'resolveConfig',
    ]);
  });

  it('keeps test support and the HTTP server on their own subpaths', async () => {
    expect(Object.keys(await import('@botbridge/core/test-support')).sort()).toEqual(['createTestDatabase', 'supportsTestDatabase', 'tcpReachable']);
    expect(Object.keys(await import('@botbridge/core/server')).sort()).toEqual(['runServer', 'startServer']);
  });
});
