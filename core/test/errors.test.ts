import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BridgeError, errorCatalogue, formatMessage, isBridgeError, type BridgeErrorCode } from '../src/errors.js';

const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...docs.matchAll(/^\| `(BRIDGE_ERR_[A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => ({ code: m[1]!, message: m[2]!.trim() }));

describe('error catalogue', () => {
  it('docs/errors.md lists exactly the catalogue, with the same message templates', () => {
    expect(documented.map((d) => d.code).sort()).toEqual(Object.keys(errorCatalogue).sort());
    for (const { code, message } of documented) expect(message).toBe(errorCatalogue[code as BridgeErrorCode]);
  });

  it('every code follows the naming scheme', () => {
    for (const code of Object.keys(errorCatalogue)) expect(code).toMatch(/^BRIDGE_ERR_[A-Z_]+$/);
  });

  it('formats a message from its template and keeps the params', () => {
    const error = new BridgeError('BRIDGE_ERR_LINE_TOO_LONG', { limit: 16384 });
    expect(error.message).toBe('line exceeds 16384 bytes');
    expect(error.code).toBe('BRIDGE_ERR_LINE_TOO_LONG');
    expect(isBridgeError(error, 'BRIDGE_ERR_LINE_TOO_LONG')).toBe(true);
    expect(isBridgeError(error, 'BRIDGE_ERR_JSON_INVALID')).toBe(false);
    expect(formatMessage('BRIDGE_ERR_DEVICE_REFUSED', { botName: 'LOA.i', deviceId: 'd1' })).toBe('device LOA.i/d1 is {status}');
  });
});
