import { describe, expect, it } from 'vitest';
import { analyzeLine, BOT, counter, DEVICE, echoPlugin, expectNoClients, handshakeLine, signedAnalyze, useBridges } from './helpers.js';

/** PROTOCOL.md §2: the handshake, its answer and the one-connection-per-device rule. */

const REGISTERED = '디바이스가 승인 대기 상태로 등록되었습니다';
const PENDING = '승인 대기 중인 디바이스입니다';
const APPROVED = '승인된 디바이스입니다';
const blockedMessage = (status: string) => `접근이 차단된 디바이스입니다 (${status})`;

const { bridge, connect } = useBridges();

describe('handshake answer', () => {
  it('answers a full handshake with handshakeComplete in the §2.3 shape', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await connect(t);
    const packet = await phone.nextPacket('handshakeComplete');
    expect(Object.keys(packet)).toEqual(['event', 'data']);
    expect(Object.keys(packet.data as object)).toEqual(['success', 'approved', 'message', 'server_version']);
    expect(packet.data).toEqual({ success: true, approved: true, message: APPROVED, server_version: expect.any(String) });
    expect(t.bridge.clients()).toMatchObject([
      { botName: BOT, deviceId: DEVICE, clientType: 'MessengerBotR', version: '3.2.1', deviceIP: '192.168.0.23', remoteAddress: '127.0.0.1' },
    ]);
    await phone.shouldReply('hi', '에코: hi');
  });

  it('accepts the minimal three-field handshake (clientType defaults to MessengerBotR)', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await connect(t, { handshake: 'minimal', botName: 'kkobot', version: '3.2.0' });
    expect(await phone.handshake).toMatchObject({ success: true, approved: true });
    expect(t.bridge.clients()).toMatchObject([{ botName: 'kkobot', clientType: 'MessengerBotR', version: '3.2.0', deviceIP: null }]);
    await phone.shouldReply('hi', '에코: hi');
  });

  for (const missing of ['botName', 'deviceID', 'version'] as const) {
    it(`answers success:false and closes when ${missing} is missing`, async () => {
      const t = await bridge();
      const handshake: Record<string, string> = { clientType: 'MessengerBotR', botName: BOT, version: '3.2.1', deviceID: DEVICE };
      delete handshake[missing];
      const phone = await connect(t, { handshake });
      const answer = await phone.nextPacket('handshakeComplete');
      expect(answer).toMatchObject({ data: { success: false, approved: false, message: expect.stringMatching(/\S/) } });
      await phone.closed;
      await expectNoClients(t);
      expect(counter(t, 'handshakes', 'invalid')).toBe(1);
    });
  }

  it('answers success:false and closes when a required field is empty', async () => {
    const t = await bridge();
    const phone = await connect(t, { handshake: { botName: BOT, version: '3.2.1', deviceID: '' } });
    expect(await phone.nextPacket('handshakeComplete')).toMatchObject({ data: { success: false } });
    await phone.closed;
  });

  it('uses the reference wording for first contact, pending, approved and refused devices', async () => {
    const t = await bridge({ autoApprove: false });
    const first = await connect(t);
    expect(await first.handshake).toEqual({ success: true, approved: false, message: REGISTERED, server_version: expect.any(String) });
    await first.close();

    const again = await connect(t);
    expect(await again.handshake).toMatchObject({ success: true, approved: false, message: PENDING });
    await again.close();

    await t.setDeviceStatus(BOT, DEVICE, 'approved');
    const approved = await connect(t);
    expect(await approved.handshake).toMatchObject({ success: true, approved: true, message: APPROVED });
    await approved.close();

    for (const status of ['blocked', 'denied', 'revoked'] as const) {
      await t.setDeviceStatus(BOT, DEVICE, status);
      const refused = await connect(t);
      expect(await refused.handshake).toEqual({ success: false, approved: false, message: blockedMessage(status), server_version: expect.any(String) });
      await refused.closed;
      expect(refused.closeReason).not.toBe('closed by the test');
    }
    await expectNoClients(t);
  });

  it('processes packets written right behind the handshake in the same TCP write', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await connect(t, { handshake: false });
    phone.sendRaw(handshakeLine() + analyzeLine(signedAnalyze({ text: 'one' })) + analyzeLine(signedAnalyze({ text: 'two' })));
    expect(await phone.handshake).toMatchObject({ success: true });
    expect((await phone.waitForReplies(2)).map((r) => r.text)).toEqual(['에코: one', '에코: two']);
    const order = phone.packets.map((p) => p.event);
    expect(order.indexOf('handshakeComplete')).toBeLessThan(order.indexOf('messageResponse'));
  });
});

describe('one connection per (botName, deviceID)', () => {
  it('a second connection of the same device replaces the first, which gets EOF', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const older = await t.client();
    const newer = await t.client();
    await older.closed;
    expect(older.closeReason).not.toBe('closed by the test');
    expect(newer.closeReason).toBeNull();
    expect(t.bridge.clients()).toHaveLength(1);
    await newer.shouldReply('still here', '에코: still here');
  });

  it('different deviceIDs of one bot coexist', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const a = await t.client({ deviceId: '1111111111111111' });
    const b = await t.client({ deviceId: '2222222222222222' });
    expect(t.bridge.clients().map((c) => c.deviceId).sort()).toEqual(['1111111111111111', '2222222222222222']);
    await a.shouldReply('from a', '에코: from a');
    await b.shouldReply('from b', '에코: from b');
    expect(a.closeReason).toBeNull();
  });

  it('the same deviceID under another botName is another device', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const a = await t.client({ botName: 'botA' });
    const b = await t.client({ botName: 'botB' });
    expect(t.bridge.clients()).toHaveLength(2);
    await a.shouldReply('x', '에코: x');
    await b.shouldReply('y', '에코: y');
  });
});
