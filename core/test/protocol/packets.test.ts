import { describe, expect, it } from 'vitest';
import { decodeAuthBlock, decodeHandshake, decodePacket } from '../../src/protocol/packets.js';

// The example packets of PROTOCOL.md, verbatim (auth blocks stand in for `{...}`).
const HANDSHAKE =
  '{"clientType":"MessengerBotR","botName":"LOA.i","version":"3.2.1","deviceID":"a1b2c3d4e5f60718","deviceIP":"192.168.0.23","deviceInfo":"samsung SM-G991N (Android 13, API 33)"}';
const AUTH =
  '{"clientType":"MessengerBotR","botName":"LOA.i","deviceUUID":"unknown","deviceID":"a1b2c3d4e5f60718","macAddress":"02:00:00:00:00:00","ipAddress":"192.168.0.23","timestamp":1752566400000,"version":"3.2.1","signature":"845af89f453e6a9c3dd811f19b012e13d898922394a850bb451b51118736b721"}';
const ANALYZE = `{"event":"analyze","data":{"room":"테스트방","text":"# echo 안녕","sender":"홍길동","isGroupChat":true,"channelId":"18445682959392711","logId":"3344556677","userHash":"abcd1234","isMention":false,"timestamp":"2025-07-15 17:00:00","botName":"LOA.i","clientType":"MessengerBotR","auth":${AUTH}}}`;
const PING = `{"event":"ping","data":{"bot_name":"LOA.i","server_timestamp":1752566400123,"monitoring":{"total_memory":512,"memory_usage":97.3,"memory_percent":19,"message_queue_size":0,"active_rooms":3},"auth":${AUTH}}}`;

function analyze(data: Record<string, unknown>) {
  return decodePacket({ event: 'analyze', data: { room: '방', text: 't', sender: 's', ...data } });
}

describe('decodeHandshake', () => {
  it('decodes the full example', () => {
    expect(decodeHandshake(JSON.parse(HANDSHAKE))).toEqual({
      ok: true,
      handshake: {
        clientType: 'MessengerBotR',
        botName: 'LOA.i',
        version: '3.2.1',
        deviceId: 'a1b2c3d4e5f60718',
        deviceIP: '192.168.0.23',
        deviceInfo: 'samsung SM-G991N (Android 13, API 33)',
      },
    });
  });

  it('accepts the three required fields alone and defaults clientType', () => {
    expect(decodeHandshake({ botName: 'kkobot', version: '3.2.0', deviceID: 'dev1' })).toEqual({
      ok: true,
      handshake: { clientType: 'MessengerBotR', botName: 'kkobot', version: '3.2.0', deviceId: 'dev1', deviceIP: null, deviceInfo: null },
    });
  });

  it.each([
    ['missing botName', { version: '3.2.1', deviceID: 'd' }, 'botName'],
    ['empty deviceID', { botName: 'b', version: '3.2.1', deviceID: '' }, 'deviceID'],
    ['numeric version', { botName: 'b', version: 321, deviceID: 'd' }, 'version'],
  ])('rejects %s with a reason naming the field', (_name, value, field) => {
    const result = decodeHandshake(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(field);
  });

  it('rejects a wrapped (v3.3-style) handshake and non-objects', () => {
    expect(decodeHandshake({ event: 'handshake', data: { botName: 'b', version: '3.3.0', deviceID: 'd' } }).ok).toBe(false);
    expect(decodeHandshake('hello').ok).toBe(false);
    expect(decodeHandshake(null).ok).toBe(false);
  });
});

describe('decodePacket: analyze', () => {
  it('decodes the example, keeping ids as strings and the raw auth block', () => {
    const packet = decodePacket(JSON.parse(ANALYZE));
    expect(packet).toEqual({
      kind: 'analyze',
      data: {
        room: '테스트방',
        text: '# echo 안녕',
        sender: '홍길동',
        isGroupChat: true,
        isMention: false,
        channelId: '18445682959392711',
        logId: '3344556677',
        userHash: 'abcd1234',
        timestamp: '2025-07-15 17:00:00',
        botName: 'LOA.i',
        clientType: 'MessengerBotR',
        packageName: null,
        threadId: null,
        legacy: false,
        auth: JSON.parse(AUTH),
      },
    });
  });

  it('accepts null channelId and logId and an absent userHash', () => {
    const packet = analyze({ channelId: null, logId: null });
    expect(packet).toMatchObject({ kind: 'analyze', data: { channelId: null, logId: null, userHash: null, legacy: false } });
  });

  it('converts exact numeric ids with String()', () => {
    const packet = analyze({ channelId: 9007199254740991, logId: 42 });
    expect(packet).toMatchObject({ kind: 'analyze', data: { channelId: '9007199254740991', logId: '42' } });
  });

  it('rejects a numeric id whose digits JSON.parse already lost', () => {
    const packet = decodePacket(JSON.parse('{"event":"analyze","data":{"room":"r","text":"t","sender":"s","channelId":18445682959392711}}'));
    expect(packet).toMatchObject({ kind: 'invalid', event: 'analyze' });
    if (packet.kind === 'invalid') expect(packet.reason).toContain('2^53');
  });

  it('recognises the legacy twin: no logId key, packageName and threadId', () => {
    const packet = analyze({ isGroupChat: false, channelId: '18445682959392711', userHash: 'r4nd0m', packageName: 'com.kakao.talk', threadId: 7 });
    expect(packet).toMatchObject({
      kind: 'analyze',
      data: { legacy: true, logId: null, packageName: 'com.kakao.talk', threadId: '7', userHash: 'r4nd0m' },
    });
  });

  it('accepts the legacy twin as the v3.2.x scripts send it: boolean threadId, null channelId and userHash, no clientType', () => {
    const twin = {
      room: '테스트방', text: 'hi', sender: '홍길동', isGroupChat: true, channelId: null, timestamp: '2025-07-15 17:00:00',
      botName: 'LOA.i', packageName: 'com.kakao.talk', threadId: false, userHash: null, isMention: false, auth: {},
    };
    const decoded = decodePacket({ event: 'analyze', data: twin });
    expect(decoded).toMatchObject({ kind: 'analyze', data: { legacy: true, threadId: null, channelId: null, userHash: null, clientType: null } });
    expect(decodePacket({ event: 'analyze', data: { ...twin, threadId: { any: 'thing' } } })).toMatchObject({ kind: 'analyze' });
  });

  it.each([
    ['room missing', { room: undefined }, 'room must be a non-empty string'],
    ['text not a string', { text: 5 }, 'text must be a string'],
    ['isGroupChat as a string', { isGroupChat: 'true' }, 'isGroupChat must be a boolean'],
    ['channelId not decimal', { channelId: 'abc' }, 'channelId must be a decimal string or null'],
    ['logId fractional', { logId: 1.5 }, 'logId must be a decimal string or null'],
    ['userHash a number', { userHash: 3 }, 'userHash must be a string'],
  ])('rejects %s with a reason', (_name, data, reason) => {
    expect(analyze(data)).toEqual({ kind: 'invalid', event: 'analyze', reason });
  });
});

describe('decodePacket: ping answers and envelopes', () => {
  it('decodes the example ping answer', () => {
    expect(decodePacket(JSON.parse(PING))).toEqual({
      kind: 'ping',
      data: {
        botName: 'LOA.i',
        serverTimestamp: 1752566400123,
        monitoring: { totalMemory: 512, memoryUsage: 97.3, memoryPercent: 19, messageQueueSize: 0, activeRooms: 3 },
        auth: JSON.parse(AUTH),
      },
    });
  });

  it('accepts a missing monitoring block and null monitoring fields', () => {
    expect(decodePacket({ event: 'ping', data: { bot_name: 'b', server_timestamp: 1 } })).toMatchObject({
      kind: 'ping',
      data: { monitoring: null, auth: undefined },
    });
    expect(decodePacket({ event: 'ping', data: { bot_name: 'b', server_timestamp: 1, monitoring: { total_memory: null } } })).toMatchObject({
      kind: 'ping',
      data: { monitoring: { totalMemory: null, memoryUsage: null, memoryPercent: null, messageQueueSize: null, activeRooms: null } },
    });
  });

  it.each([
    ['server_timestamp as a string', { bot_name: 'b', server_timestamp: '1' }, 'server_timestamp must be a number'],
    ['bot_name missing', { server_timestamp: 1 }, 'bot_name must be a string'],
    ['monitoring field as text', { bot_name: 'b', server_timestamp: 1, monitoring: { active_rooms: 'x' } }, 'monitoring.active_rooms must be a number or null'],
  ])('rejects %s', (_name, data, reason) => {
    expect(decodePacket({ event: 'ping', data })).toEqual({ kind: 'invalid', event: 'ping', reason });
  });

  it('reports an unknown event distinctly', () => {
    expect(decodePacket({ event: 'message', data: {} })).toEqual({ kind: 'unknown', event: 'message' });
  });

  it.each([
    ['an array', [1], '', 'packet is not an object'],
    ['a missing event', { data: {} }, '', 'event is not a string'],
    ['a missing data', { event: 'analyze' }, 'analyze', 'data is not an object'],
  ])('rejects %s', (_name, value, event, reason) => {
    expect(decodePacket(value)).toEqual({ kind: 'invalid', event, reason });
  });
});

describe('decodeAuthBlock', () => {
  it('reads the example and treats omitted signed fields as empty strings', () => {
    const { macAddress: _m, ipAddress: _i, ...partial } = JSON.parse(AUTH) as Record<string, unknown>;
    expect(decodeAuthBlock(partial)).toMatchObject({ ok: true, auth: { macAddress: '', ipAddress: '', deviceUUID: 'unknown', deviceId: 'a1b2c3d4e5f60718' } });
  });

  it('rejects a string timestamp and a non-string signed field', () => {
    expect(decodeAuthBlock({ ...JSON.parse(AUTH), timestamp: '1752566400000' })).toEqual({ ok: false, reason: 'timestamp must be an integer (epoch ms)' });
    expect(decodeAuthBlock({ ...JSON.parse(AUTH), macAddress: 1 })).toEqual({ ok: false, reason: 'macAddress must be a string' });
  });
});

describe('decodeHandshake: informational fields', () => {
  it('treats a wrongly typed deviceIP as absent instead of refusing the phone', () => {
    expect(decodeHandshake({ botName: 'b', version: '3.2.1', deviceID: 'd', deviceIP: 23, deviceInfo: null })).toMatchObject({
      ok: true,
      handshake: { deviceIP: null, deviceInfo: null },
    });
  });
});
