import { describe, expect, it } from 'vitest';
import { handshakeMessages, v32Codec } from '../../src/protocol/codec.js';

describe('v32Codec encoders (byte-exact with PROTOCOL.md)', () => {
  it('encodes handshakeComplete as in §2.3', () => {
    const line = v32Codec.encodeHandshakeComplete({
      success: true,
      approved: false,
      message: handshakeMessages.pending,
      serverVersion: '1.0.0',
    });
    expect(line).toBe(
      '{"event":"handshakeComplete","data":{"success":true,"approved":false,"message":"승인 대기 중인 디바이스입니다","server_version":"1.0.0"}}\n',
    );
  });

  it('writes Korean raw, like ensure_ascii=False', () => {
    const line = v32Codec.encodeHandshakeComplete({ success: true, approved: true, message: handshakeMessages.approved, serverVersion: '1' });
    expect(Buffer.from(line, 'utf8').includes(Buffer.from('승인된', 'utf8'))).toBe(true);
    expect(line).not.toContain('\\u');
  });

  it('encodes messageResponse as in §6', () => {
    const line = v32Codec.encodeMessageResponse({ room: '테스트방', channelId: '18445682959392711', botName: 'LOA.i', content: { kind: 'text', text: '에코: 안녕' } });
    expect(line).toBe('{"event":"messageResponse","data":{"room":"테스트방","channel_id":"18445682959392711","bot_name":"LOA.i","text":"에코: 안녕"}}\n');
  });

  it('adds media_wait_time only when it is above zero', () => {
    const base = { room: 'r', channelId: null, botName: 'b', content: { kind: 'media', form: 'url', items: ['https://x/a.png'], mediaType: 'image' } } as const;
    expect(v32Codec.encodeMessageResponse({ ...base, mediaWaitTime: 4500 })).toBe(
      '{"event":"messageResponse","data":{"room":"r","channel_id":null,"bot_name":"b","text":"MEDIA_URL:https://x/a.png","media_wait_time":4500}}\n',
    );
    expect(v32Codec.encodeMessageResponse({ ...base, mediaWaitTime: 0 })).not.toContain('media_wait_time');
    expect(v32Codec.encodeMessageResponse({ ...base, mediaWaitTime: 0.2 })).not.toContain('media_wait_time');
    expect(v32Codec.encodeMessageResponse({ ...base, mediaWaitTime: Number.NaN })).not.toContain('media_wait_time');
  });

  it('keeps a text with newlines on one line', () => {
    const line = v32Codec.encodeMessageResponse({ room: 'r', channelId: '1', botName: 'b', content: { kind: 'text', text: 'a\nb\r\nc' } });
    expect(line.indexOf('\n')).toBe(line.length - 1);
  });

  it('encodes a ping as in §6', () => {
    const line = v32Codec.encodePing({
      botName: 'LOA.i',
      deviceId: 'a1b2c3d4e5f60718',
      serverTimestamp: 1752566400123,
      isManual: false,
      totalClients: 12,
    });
    expect(line).toBe(
      '{"event":"ping","data":{"bot_name":"LOA.i","device_id":"a1b2c3d4e5f60718","server_timestamp":1752566400123,"is_manual":false,"server_info":{"total_clients":12,"timestamp":1752566400123}}}\n',
    );
  });

  it('exports the handshake message texts of §2.3 verbatim', () => {
    expect(handshakeMessages.approved).toBe('승인된 디바이스입니다');
    expect(handshakeMessages.pending).toBe('승인 대기 중인 디바이스입니다');
    expect(handshakeMessages.registered).toBe('디바이스가 승인 대기 상태로 등록되었습니다');
    expect(handshakeMessages.refused('blocked')).toBe('접근이 차단된 디바이스입니다 (blocked)');
  });

  it('decodes through the same seam', () => {
    expect(v32Codec.decodeHandshake({ botName: 'b', version: '3.2.2', deviceID: 'd' }).ok).toBe(true);
    expect(v32Codec.decodePacket({ event: 'x' })).toEqual({ kind: 'unknown', event: 'x' });
  });
});
