import { describe, expect, it } from 'vitest';
import * as testing from '@botbridge/testing';
import * as wire from '@botbridge/testing/wire';

/**
 * The test kit's export lists are what plugin authors' tests build on: a change here is a
 * deliberate API change (update the list, docs/plugins.md and CHANGELOG.md).
 */
describe('@botbridge/testing public API', () => {
  it('exports exactly these runtime values', () => {
    expect(Object.keys(testing).sort()).toEqual(['FakeBridgeClient', 'createTestBridge']);
    expect(Object.keys(wire).sort()).toEqual([
      'SCRIPT_SALT',
      'SCRIPT_SECRET_KEY',
      'buildAnalyzeData',
      'buildAuthBlock',
      'buildHandshake',
      'buildLegacyTwin',
      'buildPingAnswer',
      'buildV33Handshake',
      'buildV33MessageLine',
      'buildV33PingAnswer',
      'encodeLine',
      'encodeV33Line',
      'readV33Reply',
      'signAuth',
      'splitV33Line',
    ]);
  });
});
