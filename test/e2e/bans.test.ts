import { describe, expect, it } from 'vitest';
import { BOT, counter, echoPlugin, eventually, expectCounter, useBridges } from './helpers.js';

/**
 * Issue 13, finding 5: failed authentication and reconnect flapping per device and per address
 * lead to a temporary ban (here with small thresholds), device first, so an approved phone behind
 * a banned address is not collateral damage; bans are listed and lifted through the admin facade.
 */

const { bridge, connect } = useBridges();
const bans = (deviceThreshold: number, addressThreshold = 100) => ({ bans: { deviceThreshold, addressThreshold } });

describe('bans', () => {
  it('bans a flapping device at its threshold, lists it, and lets it back once lifted', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: bans(3) });
    for (let i = 0; i < 2; i++) {
      const phone = await connect(t, { deviceId: 'flap000000000001' });
      expect((await phone.handshake).success).toBe(true);
      await phone.close();
    }
    const third = await connect(t, { deviceId: 'flap000000000001' });
    const answer = await third.handshake;
    expect(answer).toMatchObject({ success: false, message: '일시적으로 접속이 차단되었습니다' });
    await third.closed;
    expect(counter(t, 'bans', 'device')).toBe(1);
    expect(counter(t, 'bans_refused', 'device')).toBe(1);
    expect(t.bridge.admin.bans()).toMatchObject([{ kind: 'device', subject: `${BOT}/flap000000000001`, reason: 'connect' }]);
    // Another device from the same address is not affected.
    const other = await connect(t, { deviceId: 'calm000000000002' });
    expect((await other.handshake).success).toBe(true);

    expect(t.bridge.admin.liftBan('device', `${BOT}/flap000000000001`)).toBe(true);
    expect(t.bridge.admin.bans()).toEqual([]);
    const back = await connect(t, { deviceId: 'flap000000000001' });
    expect((await back.handshake).success).toBe(true);
    expect(t.bridge.admin.liftBan('device', `${BOT}/flap000000000001`)).toBe(false);
  });

  it('bans a device for failed authentication and closes its connection', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { ...bans(4), auth: { maxFailures: 100 } } });
    const phone = await connect(t, { deviceId: 'badkey0000000001', secretKey: 'a-wrong-secret-key-123', autoPong: false });
    await phone.handshake;
    for (let i = 0; i < 3; i++) phone.analyze(`bad ${i}`);
    await phone.closed;
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_BANNED', 1);
    // One connect strike and three auth strikes.
    expect(counter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_SIGNATURE')).toBe(3);
    expect(t.bridge.admin.bans()).toMatchObject([{ kind: 'device', reason: 'auth' }]);
  });

  it('bans an address for failed handshakes; approved devices behind it still get in, others do not', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: bans(100, 3) });
    await t.setDeviceStatus(BOT, 'approved00000001', 'approved');
    const approved = await connect(t, { deviceId: 'approved00000001' });
    expect((await approved.handshake).approved).toBe(true);
    for (let i = 0; i < 3; i++) {
      const junk = await connect(t, { handshake: false });
      junk.sendRaw('not a handshake\n');
      await junk.closed;
    }
    await eventually('address banned', () => counter(t, 'bans', 'address') === 1);
    const pending = await connect(t, { deviceId: 'pending000000001' });
    expect(await pending.handshake).toMatchObject({ success: false });
    await approved.close();
    const again = await connect(t, { deviceId: 'approved00000001' });
    expect(await again.handshake).toMatchObject({ success: true, approved: true });
    await again.shouldReply('hello', '에코: hello');
  });

  it('refuses a banned address at accept, unread, when no approved device connected from it', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: bans(100, 2) });
    for (let i = 0; i < 2; i++) {
      const junk = await connect(t, { handshake: false });
      junk.sendRaw('{}\n');
      await junk.closed;
    }
    await eventually('address banned', () => counter(t, 'bans', 'address') === 1);
    const refused = await connect(t, { deviceId: 'newcomer00000001', handshakeTimeoutMs: 3_000 });
    await refused.closed;
    await expect(refused.handshake).rejects.toThrow();
    expect(counter(t, 'bans_refused', 'address')).toBeGreaterThanOrEqual(1);
    // Only the two junk lines were ever read as handshakes: the newcomer's never was.
    expect(counter(t, 'handshakes')).toBe(2);
  });
});
