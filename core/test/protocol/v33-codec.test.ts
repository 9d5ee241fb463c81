import { describe, expect, it } from 'vitest';
import { v32Codec } from '../../src/protocol/codec.js';
import { selectCodec, splitFrame } from '../../src/protocol/codec-select.js';
import { parseJsonLine } from '../../src/protocol/safe-json.js';
import { decodeBase64Text, v33Codec, v33Unsendable } from '../../src/protocol/v33-codec.js';

/**
 * Fixtures written by hand from what the v3.3 scripts write (PROTOCOL.md §8): the JSON of
 * `{event, data}` in the script's key order, then the raw payload, then LF. Rhino sends
 * `message_positions:[0,0]` even when a payload follows (a Java string's `length` is a method).
 */
const AUTH = {
  clientType: 'MessengerBotR',
  botName: 'LOA.i',
  deviceUUID: 'unknown',
  deviceID: 'a1b2c3d4e5f60718',
  macAddress: '02:00:00:00:00:00',
  ipAddress: '192.168.0.23',
  timestamp: 1752566400000,
  version: '3.3.3',
  signature: 'f'.repeat(64),
};
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function messageLine(text: string, over: Record<string, unknown> = {}, payload = b64(text)): string {
  const data = {
    room: '테스트방',
    channel_id: '18445682959392711',
    message_type: 'text',
    content_encoding: 'base64',
    message_positions: [0, 0],
    timestamp: '2025-07-21T12:12:11.000Z',
    timezone: 'Asia/Seoul',
    sender: '홍길동',
    is_group_chat: true,
    log_id: '3344556677',
    user_hash: 'abcd1234',
    is_mention: false,
    bot_name: 'LOA.i',
    client_type: 'MessengerBotR',
    auth: AUTH,
    ...over,
  };
  return `${JSON.stringify({ event: 'message', data })}${payload}`;
}

const HANDSHAKE_LINE =
  '{"event":"handshake","data":{"clientType":"MessengerBotR","botName":"LOA.i","version":"3.3.3","deviceID":"a1b2c3d4e5f60718","deviceIP":"192.168.0.23","deviceInfo":"samsung SM-G991N (Android 13, API 33)","timestamp":"2025-07-21T12:12:10.000Z","timezone":"Asia/Seoul","message_positions":[0,0]}}';
const PONG_LINE = `{"event":"pong","data":{"bot_name":"LOA.i","server_timestamp":1752566400123,"monitoring":{"total_memory":512,"memory_usage":97.3,"memory_percent":19,"message_queue_size":0,"active_rooms":3},"auth":${JSON.stringify(AUTH)},"timestamp":"2025-07-21T12:12:12.000Z","timezone":"Asia/Seoul","message_positions":[0,0]}}`;

/** What Connection does with a line: split at the last `}`, parse the JSON part. */
function decodeLine(line: string) {
  const frame = splitFrame(line);
  return v33Codec.decodePacket(JSON.parse(frame.json), frame.raw);
}

describe('splitFrame', () => {
  it('leaves a plain JSON line whole', () => {
    expect(splitFrame('{"a":1}')).toEqual({ json: '{"a":1}', raw: '' });
  });
  it('cuts at the last } even when the JSON part holds } in strings', () => {
    expect(splitFrame('{"a":"}{"}SGk=')).toEqual({ json: '{"a":"}{"}', raw: 'SGk=' });
  });
  it('trims the payload like the script', () => {
    expect(splitFrame('{"a":1}SGk= ')).toEqual({ json: '{"a":1}', raw: 'SGk=' });
    expect(splitFrame('{"a":1} ')).toEqual({ json: '{"a":1}', raw: '' });
  });
  it('keeps a line without } whole (the JSON parse refuses it)', () => {
    expect(splitFrame('SGk=')).toEqual({ json: 'SGk=', raw: '' });
  });
});

describe('selectCodec: the first line decides', () => {
  it('a bare handshake is v3.2', () => {
    expect(selectCodec({ botName: 'b', version: '3.2.2', deviceID: 'd' })).toEqual({ codec: v32Codec, kind: 'handshake' });
  });
  it('a wrapped handshake is v3.3', () => {
    expect(selectCodec(JSON.parse(HANDSHAKE_LINE))).toEqual({ codec: v33Codec, kind: 'handshake' });
  });
  it('a queued message or pong before the handshake is v3.3, held (the quirk)', () => {
    expect(selectCodec(JSON.parse(splitFrame(messageLine('hi')).json))).toEqual({ codec: v33Codec, kind: 'early' });
    expect(selectCodec(JSON.parse(PONG_LINE))).toEqual({ codec: v33Codec, kind: 'early' });
    expect(selectCodec({ event: 'ping', data: { message_positions: [0, 0] } })).toEqual({ codec: v33Codec, kind: 'early' });
  });
  it('anything else is validated as a v3.2 handshake (and refused as before)', () => {
    expect(selectCodec({ event: 'analyze', data: {} }).codec).toBe(v32Codec);
    expect(selectCodec('hello').codec).toBe(v32Codec);
    expect(selectCodec({ event: 'message', data: 'x' }).codec).toBe(v32Codec);
  });
});

describe('v33Codec decoders', () => {
  it('decodes the wrapped handshake into the same packet as v3.2', () => {
    const frame = splitFrame(HANDSHAKE_LINE);
    expect(v33Codec.decodeHandshake(JSON.parse(frame.json), frame.raw)).toEqual({
      ok: true,
      handshake: {
        clientType: 'MessengerBotR',
        botName: 'LOA.i',
        version: '3.3.3',
        deviceId: 'a1b2c3d4e5f60718',
        deviceIP: '192.168.0.23',
        deviceInfo: 'samsung SM-G991N (Android 13, API 33)',
      },
    });
    expect(v33Codec.decodeHandshake({ botName: 'b', version: '3', deviceID: 'd' }).ok).toBe(false);
    expect(v33Codec.decodeHandshake(JSON.parse(HANDSHAKE_LINE), 'SGk=').ok).toBe(false);
  });

  it('decodes a message into the same analyze packet as v3.2 (payload after the last }, positions ignored)', () => {
    expect(decodeLine(messageLine('# echo 안녕'))).toEqual({
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
        // The UTC stamp becomes the phone's local time, as v3.2 sent it.
        timestamp: '2025-07-21 21:12:11',
        botName: 'LOA.i',
        clientType: 'MessengerBotR',
        packageName: null,
        threadId: null,
        legacy: false,
        auth: AUTH,
      },
    });
  });

  it('takes Korean and emoji text whatever the positions claim', () => {
    const text = '안녕 😀 }{ "quotes"';
    for (const positions of [[0, 0], [0, 3], [0, 99999], [5, 2], 'x']) {
      const packet = decodeLine(messageLine(text, { message_positions: positions }));
      expect(packet).toMatchObject({ kind: 'analyze', data: { text } });
    }
  });

  it('a JSON part holding } in a field still splits at the payload', () => {
    const packet = decodeLine(messageLine('hi', { room: '방 }{' }));
    expect(packet).toMatchObject({ kind: 'analyze', data: { room: '방 }{', text: 'hi' } });
  });

  it('refuses bad payloads as invalid packets, never throws', () => {
    const cases: Array<[string, string]> = [
      ['truncated base64', b64('hello world').slice(0, -2)],
      ['not base64', '@@@@'],
      ['base64 of invalid UTF-8', Buffer.from([0xff, 0xfe, 0xfd]).toString('base64')],
      ['url-safe alphabet', 'SGk_'],
      ['padding inside', 'SG==SGk='],
    ];
    for (const [, payload] of cases) {
      expect(decodeLine(messageLine('x', {}, payload))).toEqual({ kind: 'invalid', event: 'message', reason: 'payload is not base64 of UTF-8 text' });
    }
  });

  it('names malformed fields as the script spells them', () => {
    expect(decodeLine(messageLine('x', { log_id: 'abc' }))).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^log_id /) });
    expect(decodeLine(messageLine('x', { is_group_chat: 'yes' }))).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^is_group_chat /) });
    expect(decodeLine(messageLine('x', { message_type: 'image' }))).toMatchObject({ kind: 'invalid' });
    expect(decodeLine(messageLine('x', { content_encoding: 'plain' }))).toMatchObject({ kind: 'invalid' });
  });

  it('decodes pong (v3.3.3) and ping (v3.3.2+, a2) answers alike', () => {
    const pong = decodeLine(PONG_LINE);
    expect(pong).toEqual({
      kind: 'ping',
      data: {
        botName: 'LOA.i',
        serverTimestamp: 1752566400123,
        monitoring: { totalMemory: 512, memoryUsage: 97.3, memoryPercent: 19, messageQueueSize: 0, activeRooms: 3 },
        auth: AUTH,
      },
    });
    expect(decodeLine(PONG_LINE.replace('"event":"pong"', '"event":"ping"'))).toEqual(pong);
    expect(decodeLine(`${PONG_LINE}SGk=`)).toMatchObject({ kind: 'invalid' });
  });

  it('drops unknown events and the v3.2 analyze on a v3.3 connection as unknown', () => {
    expect(v33Codec.decodePacket({ event: 'analyze', data: {} })).toEqual({ kind: 'unknown', event: 'analyze' });
    expect(v33Codec.decodePacket([])).toMatchObject({ kind: 'invalid' });
  });

  it('the v3.2 codec refuses a payload after the JSON', () => {
    expect(v32Codec.decodePacket({ event: 'analyze', data: {} }, 'SGk=')).toMatchObject({ kind: 'invalid', event: 'analyze' });
    expect(v32Codec.decodeHandshake({ botName: 'b', version: '3.2.2', deviceID: 'd' }, 'x').ok).toBe(false);
  });

  it('never throws on mangled lines: every one decodes to a packet or a reason', () => {
    // Deterministic pseudo-random mutations of real lines: cuts, duplicated braces, junk payloads.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const sources = [messageLine('# echo 안녕 😀'), PONG_LINE, HANDSHAKE_LINE, messageLine('x', { log_id: null, channel_id: null })];
    const junk = ['}', '{', '"', '=', '\\', '\u0000', '😀', 'SGk=', ' ', ']'];
    for (let i = 0; i < 2_000; i += 1) {
      let line = sources[rand(sources.length)]!;
      const cut = rand(line.length + 1);
      line = rand(2) === 0 ? line.slice(0, cut) : line.slice(0, cut) + junk[rand(junk.length)] + line.slice(cut);
      if (rand(3) === 0) line += junk[rand(junk.length)]!.repeat(rand(5));
      const frame = splitFrame(line);
      const parsed = parseJsonLine(frame.json, { maxDepth: 16, maxKeys: 2_000 });
      if (!parsed.ok) continue;
      const packet = v33Codec.decodePacket(parsed.value, frame.raw);
      expect(['analyze', 'ping', 'unknown', 'invalid']).toContain(packet.kind);
      expect(() => v33Codec.decodeHandshake(parsed.value, frame.raw)).not.toThrow();
      expect(() => selectCodec(parsed.value)).not.toThrow();
    }
  });

  it('decodeBase64Text is strict', () => {
    expect(decodeBase64Text('')).toBe('');
    expect(decodeBase64Text(b64('😀'))).toBe('😀');
    expect(decodeBase64Text('SGk')).toBeUndefined();
  });
});

/** Splits a line as the script does: JSON to the last `}`, the payload after it. */
function asScript(line: string): { data: Record<string, unknown>; event: string; payload: string } {
  expect(line.endsWith('\n')).toBe(true);
  expect(line.indexOf('\n')).toBe(line.length - 1);
  const trimmed = line.trim();
  const end = trimmed.lastIndexOf('}');
  const packet = JSON.parse(trimmed.slice(0, end + 1)) as { event: string; data: Record<string, unknown> };
  return { event: packet.event, data: packet.data, payload: trimmed.slice(end + 1) };
}

describe('v33Codec encoders', () => {
  const base = { room: '테스트방', channelId: '18445682959392711', botName: 'LOA.i' } as const;

  it('handshakeComplete: the v3.2 fields plus timestamp, timezone and [0,0]', () => {
    const { event, data, payload } = asScript(
      v33Codec.encodeHandshakeComplete({ success: true, approved: true, message: '승인된 디바이스입니다', serverVersion: '1.0.0' }),
    );
    expect(event).toBe('handshakeComplete');
    expect(payload).toBe('');
    expect(data).toMatchObject({ success: true, approved: true, message: '승인된 디바이스입니다', server_version: '1.0.0', timezone: 'Asia/Seoul', message_positions: [0, 0] });
    expect(Object.keys(data).slice(0, 4)).toEqual(['success', 'approved', 'message', 'server_version']);
  });

  it('text: base64 of the UTF-8 text after the JSON, positions [0, its length]; round-trips', () => {
    const text = '에코: 안녕 😀 {braces} and\nnewline';
    const line = v33Codec.encodeMessageResponse({ ...base, content: { kind: 'text', text } });
    const { event, data, payload } = asScript(line);
    expect(event).toBe('messageResponse');
    expect(data).toMatchObject({ room: '테스트방', channel_id: '18445682959392711', bot_name: 'LOA.i', message_type: 'text', content_encoding: 'base64' });
    expect(data.message_positions).toEqual([0, payload.length]);
    expect(Buffer.from(payload, 'base64').toString('utf8')).toBe(text);
    expect(data).not.toHaveProperty('media_wait_time');
  });

  it('media: items concatenated without |||, cut by UTF-16 positions, message_type from the reply', () => {
    const items = ['iVBORw0KGgo=', 'R0lGODlhAQABAAAAACw='];
    const line = v33Codec.encodeMessageResponse({ ...base, content: { kind: 'media', form: 'base64', items, mediaType: 'image' }, mediaWaitTime: 4500 });
    const { data, payload } = asScript(line);
    expect(data).toMatchObject({ message_type: 'image', message_positions: [0, 12, 32], media_wait_time: 4500 });
    expect(payload).toBe(items.join(''));
    const positions = data.message_positions as number[];
    expect(positions.slice(1).map((end, i) => payload.substring(positions[i]!, end))).toEqual(items);
    const video = asScript(v33Codec.encodeMessageResponse({ ...base, content: { kind: 'media', form: 'url', items: ['https://x/한.mp4'], mediaType: 'video' } }));
    expect(video.data).toMatchObject({ message_type: 'video', message_positions: [0, 15] });
    expect(video.payload).toBe('https://x/한.mp4');
  });

  it('scheduleMessage has the messageResponse shapes; v3.2 sends a messageResponse', () => {
    const m = { ...base, content: { kind: 'text', text: 'hi' } } as const;
    expect(asScript(v33Codec.encodeScheduleMessage(m)).event).toBe('scheduleMessage');
    expect(asScript(v33Codec.encodeScheduleMessage(m)).payload).toBe(b64('hi'));
    expect(v32Codec.encodeScheduleMessage(m)).toBe(v32Codec.encodeMessageResponse(m));
  });

  it('media a raw payload cannot carry is refused before encoding', () => {
    const media = (items: string[]) => ({ kind: 'media', form: 'url', items, mediaType: 'image' }) as const;
    expect(v33Unsendable(media(['https://x/a.png']))).toBeNull();
    expect(v33Unsendable(media(['https://x/{a}.png']))).toBe('invalid');
    expect(v33Unsendable(media(['a\nb']))).toBe('invalid');
    expect(v33Unsendable(media([' a']))).toBe('invalid');
    expect(v33Unsendable({ kind: 'text', text: '}}}' })).toBeNull();
  });

  it('ping: the v3.2 shape plus timestamp, timezone and [0,0]', () => {
    const { data } = asScript(v33Codec.encodePing({ botName: 'LOA.i', deviceId: 'd', serverTimestamp: 1752566400123, isManual: false, totalClients: 2 }));
    expect(data).toMatchObject({ bot_name: 'LOA.i', device_id: 'd', server_timestamp: 1752566400123, is_manual: false, server_info: { total_clients: 2, timestamp: 1752566400123 }, timezone: 'Asia/Seoul', message_positions: [0, 0] });
  });
});
