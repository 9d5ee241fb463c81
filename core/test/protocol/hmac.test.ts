import { describe, expect, it } from 'vitest';
import { DEFAULT_SALT, DEFAULT_SECRET_KEY } from '@botbridge/sdk/internal';
import { SignatureMemo, signAuth, verifyAuth } from '../../src/protocol/hmac.js';

const NOW = 1_752_566_400_000;
const WINDOW = 300_000;

function block(overrides: Record<string, unknown> = {}) {
  const fields = {
    clientType: 'MessengerBotR',
    botName: 'LOA.i',
    deviceUUID: 'unknown',
    deviceID: 'a1b2c3d4e5f60718',
    macAddress: '02:00:00:00:00:00',
    ipAddress: '192.168.0.23',
    timestamp: NOW,
    version: '3.2.1',
    ...overrides,
  };
  return { ...fields, signature: signAuth(fields as never, DEFAULT_SECRET_KEY, DEFAULT_SALT) };
}

const opts = {
  secrets: [{ secretKey: DEFAULT_SECRET_KEY, salt: DEFAULT_SALT }],
  nowMs: NOW,
  windowMs: WINDOW,
  expectedBotName: 'LOA.i',
  expectedDeviceId: 'a1b2c3d4e5f60718',
};

describe('signAuth', () => {
  it('matches the test vector of PROTOCOL.md §4', () => {
    const signature = signAuth(
      {
        clientType: 'MessengerBotR',
        botName: 'LOA.i',
        deviceUUID: 'ccbd8eee1012327e',
        macAddress: '02:00:00:00:00:00',
        ipAddress: '192.168.0.10',
        timestamp: 1752566400000,
      },
      DEFAULT_SECRET_KEY,
      DEFAULT_SALT,
    );
    expect(signature).toBe('845af89f453e6a9c3dd811f19b012e13d898922394a850bb451b51118736b721');
  });

  it('signs a missing field as the empty string', () => {
    const withEmpty = signAuth({ clientType: 'MessengerBotR', botName: 'b', deviceUUID: '', timestamp: 1 }, 'k', 's');
    const withMissing = signAuth({ clientType: 'MessengerBotR', botName: 'b', timestamp: 1 }, 'k', 's');
    expect(withMissing).toBe(withEmpty);
    expect(withMissing).not.toBe(signAuth({ clientType: 'MessengerBotR', botName: 'b', deviceUUID: 'x', timestamp: 1 }, 'k', 's'));
  });
});

describe('verifyAuth', () => {
  it('accepts a correctly signed block', () => {
    expect(verifyAuth(block(), opts)).toMatchObject({ ok: true });
  });

  it('accepts a block that omits signed fields the client may leave out', () => {
    const { macAddress: _m, deviceUUID: _d, ...rest } = block();
    const fields = { ...rest, signature: signAuth({ ...rest, macAddress: null, deviceUUID: undefined }, DEFAULT_SECRET_KEY, DEFAULT_SALT) };
    expect(verifyAuth(fields, opts)).toMatchObject({ ok: true });
  });

  it('reports a missing block', () => {
    expect(verifyAuth(undefined, opts)).toEqual({ ok: false, code: 'BRIDGE_ERR_AUTH_MISSING', params: {} });
    expect(verifyAuth(null, opts)).toEqual({ ok: false, code: 'BRIDGE_ERR_AUTH_MISSING', params: {} });
  });

  it('reports a malformed block with the reason', () => {
    const { signature: _s, ...unsigned } = block();
    expect(verifyAuth(unsigned, opts)).toEqual({
      ok: false,
      code: 'BRIDGE_ERR_AUTH_INVALID',
      params: { reason: 'signature must be a string' },
    });
    expect(verifyAuth('token', opts)).toMatchObject({ ok: false, code: 'BRIDGE_ERR_AUTH_INVALID' });
  });

  it('accepts the edge of the window and rejects beyond it, in both directions', () => {
    expect(verifyAuth(block({ timestamp: NOW - WINDOW }), opts)).toMatchObject({ ok: true });
    expect(verifyAuth(block({ timestamp: NOW + WINDOW }), opts)).toMatchObject({ ok: true });
    expect(verifyAuth(block({ timestamp: NOW - WINDOW - 1 }), opts)).toEqual({
      ok: false,
      code: 'BRIDGE_ERR_AUTH_STALE',
      params: { skewMs: WINDOW + 1, windowMs: WINDOW },
    });
    expect(verifyAuth(block({ timestamp: NOW + WINDOW + 1 }), opts)).toMatchObject({ ok: false, code: 'BRIDGE_ERR_AUTH_STALE' });
  });

  it('rejects a validly signed block of another device or bot', () => {
    expect(verifyAuth(block({ deviceID: 'ffffffffffffffff' }), opts)).toEqual({
      ok: false,
      code: 'BRIDGE_ERR_AUTH_IDENTITY',
      params: { authBot: 'LOA.i', authDevice: 'ffffffffffffffff' },
    });
    expect(verifyAuth(block({ botName: 'other' }), opts)).toMatchObject({ ok: false, code: 'BRIDGE_ERR_AUTH_IDENTITY' });
  });

  it('rejects a wrong signature of the right length, and of a wrong length without throwing', () => {
    const good = block();
    const flipped = `${good.signature.slice(0, -1)}${good.signature.endsWith('0') ? '1' : '0'}`;
    expect(verifyAuth({ ...good, signature: flipped }, opts)).toEqual({ ok: false, code: 'BRIDGE_ERR_AUTH_SIGNATURE', params: {} });
    expect(verifyAuth({ ...good, signature: good.signature.slice(0, 10) }, opts)).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
    expect(verifyAuth({ ...good, signature: `${good.signature}00` }, opts)).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
    expect(verifyAuth({ ...good, signature: '' }, opts)).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
  });

  it('rejects a block signed with another secret or salt, and tampered signed fields', () => {
    expect(verifyAuth(block(), { ...opts, secrets: [{ secretKey: 'operator-secret', salt: DEFAULT_SALT }] })).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
    expect(verifyAuth(block(), { ...opts, secrets: [{ secretKey: DEFAULT_SECRET_KEY, salt: 'other-salt' }] })).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
    expect(verifyAuth(block(), { ...opts, secrets: [] })).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
    expect(verifyAuth({ ...block(), ipAddress: '10.0.0.1' }, opts)).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
  });

  it('accepts a block signed with any of several secrets (rotation overlap)', () => {
    const secrets = [{ secretKey: 'new-secret-0123456789', salt: DEFAULT_SALT }, { secretKey: DEFAULT_SECRET_KEY, salt: DEFAULT_SALT }];
    expect(verifyAuth(block(), { ...opts, secrets })).toMatchObject({ ok: true });
    expect(verifyAuth(block(), { ...opts, secrets: secrets.slice(0, 1) })).toMatchObject({ ok: false, code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
  });
});

describe('verifyAuth with a SignatureMemo', () => {
  it('gives the same verdicts as without it, for a block seen before and after its fields, secret or salt changed', () => {
    const memo = new SignatureMemo();
    const withMemo = { ...opts, memo };
    const good = block();
    const flipped = `${good.signature.slice(0, -1)}${good.signature.endsWith('0') ? '1' : '0'}`;
    for (let round = 0; round < 2; round += 1) {
      // The second round finds every expected signature remembered.
      expect(verifyAuth(good, withMemo)).toMatchObject({ ok: true });
      expect(verifyAuth({ ...good, signature: flipped }, withMemo)).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
      expect(verifyAuth({ ...good, ipAddress: '10.0.0.1' }, withMemo)).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
      expect(verifyAuth(good, { ...withMemo, secrets: [{ secretKey: 'operator-secret', salt: DEFAULT_SALT }] })).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
      expect(verifyAuth(good, { ...withMemo, secrets: [{ secretKey: DEFAULT_SECRET_KEY, salt: 'other-salt' }] })).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
      const next = block({ timestamp: NOW + 1 });
      expect(verifyAuth(next, withMemo)).toMatchObject({ ok: true });
      expect(verifyAuth({ ...next, signature: good.signature }, withMemo)).toMatchObject({ code: 'BRIDGE_ERR_AUTH_SIGNATURE' });
    }
  });

  it('stays right past its bound: a full memo is emptied and refilled', () => {
    const memo = new SignatureMemo();
    const blocks = Array.from({ length: 2_500 }, (_, i) => block({ timestamp: NOW - i }));
    for (const b of blocks) expect(verifyAuth(b, { ...opts, memo }).ok).toBe(true);
    expect(blocks.every((b) => verifyAuth(b, { ...opts, memo }).ok)).toBe(true);
    expect(verifyAuth({ ...blocks[0]!, signature: blocks[1]!.signature }, { ...opts, memo }).ok).toBe(false);
  });
});
