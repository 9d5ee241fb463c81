import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeBridgeClient, type FakeClientOptions } from '../src/fake-client.js';
import { RawLineServer, type RawPeer } from './raw-line-server.js';

/**
 * The fake phone's v3.3 mode against a bare TCP server (no protocol logic, so it cannot agree
 * with the fake by accident): the bytes the v3.3.3 script writes, and what it makes of replies.
 */

const SECRET = '8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8';
const SALT = '7f$kLz9^&*1pXyZ2';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function signatureOf(auth: Record<string, unknown>): string {
  const fields = ['clientType', 'botName', 'deviceUUID', 'macAddress', 'ipAddress', 'timestamp'].map((k) => String(auth[k] ?? ''));
  return createHmac('sha256', SECRET).update([...fields, SALT].join('|')).digest('hex');
}

/** Splits a line as a v3.3 receiver must: JSON to the last `}`, the payload after it. */
function split(line: string): { packet: { event: string; data: Record<string, unknown> }; payload: string } {
  const end = line.lastIndexOf('}');
  return { packet: JSON.parse(line.slice(0, end + 1)), payload: line.slice(end + 1) };
}

let server: RawLineServer;
const clients: FakeBridgeClient[] = [];

beforeEach(async () => {
  server = await RawLineServer.start();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.close();
});

async function connect(options: Partial<FakeClientOptions> = {}): Promise<{ client: FakeBridgeClient; peer: RawPeer }> {
  const client = await FakeBridgeClient.connect({ port: server.port, protocol: '3.3', ...options });
  clients.push(client);
  return { client, peer: await server.peer(clients.length - 1) };
}

describe("protocol '3.3': what the phone writes", () => {
  it('writes the wrapped handshake in the script key order, unsigned, positions [0,0]', async () => {
    const { peer } = await connect();
    const { packet, payload } = split(await peer.line(0));
    expect(payload).toBe('');
    expect(packet.event).toBe('handshake');
    expect(Object.keys(packet.data)).toEqual(['clientType', 'botName', 'version', 'deviceID', 'deviceIP', 'deviceInfo', 'timestamp', 'timezone', 'message_positions']);
    expect(packet.data).toMatchObject({ botName: 'LOA.i', version: '3.3.3', deviceID: 'a1b2c3d4e5f60718', timezone: 'Asia/Seoul', message_positions: [0, 0] });
    expect(packet.data.timestamp).toMatch(ISO);
  });

  it('writes a message as JSON then base64 of the UTF-8 text, with Rhino positions [0,0] and a valid auth', async () => {
    const { client, peer } = await connect();
    client.analyze('# echo 안녕 😀');
    const { packet, payload } = split(await peer.line(1));
    expect(packet.event).toBe('message');
    expect(Object.keys(packet.data)).toEqual([
      'room', 'channel_id', 'message_type', 'content_encoding', 'message_positions', 'timestamp', 'timezone',
      'sender', 'is_group_chat', 'log_id', 'user_hash', 'is_mention', 'bot_name', 'client_type', 'auth',
    ]);
    expect(packet.data).toMatchObject({ room: '테스트방', message_type: 'text', content_encoding: 'base64', message_positions: [0, 0], is_group_chat: true, is_mention: false });
    expect(Buffer.from(payload, 'base64').toString('utf8')).toBe('# echo 안녕 😀');
    const auth = packet.data.auth as Record<string, unknown>;
    expect(auth.signature).toBe(signatureOf(auth));
    expect(auth.version).toBe('3.3.3');
  });

  it('writes exact positions on request', async () => {
    const { client, peer } = await connect({ positions: 'exact' });
    client.analyze('hi');
    const { packet, payload } = split(await peer.line(1));
    expect(packet.data.message_positions).toEqual([0, payload.length]);
  });

  it('writes queued lines before the handshake, in order, in one write', async () => {
    const { peer } = await connect({ queued: ['q1', { text: 'q2', room: '다른 방' }] });
    await peer.line(2);
    const lines = peer.lines.map(split);
    expect(lines.map((l) => l.packet.event)).toEqual(['message', 'message', 'handshake']);
    expect(lines.slice(0, 2).map((l) => Buffer.from(l.payload, 'base64').toString('utf8'))).toEqual(['q1', 'q2']);
    expect(lines[1]!.packet.data.room).toBe('다른 방');
  });

  it('answers a ping with pong (default) or ping, echoing the timestamp', async () => {
    for (const [pingAnswer, event] of [[undefined, 'pong'], ['ping', 'ping']] as const) {
      const { peer } = await connect(pingAnswer === undefined ? {} : { pingAnswer });
      peer.send({ event: 'ping', data: { bot_name: 'LOA.i', server_timestamp: 1752566400123, message_positions: [0, 0] } });
      const { packet, payload } = split(await peer.line(1));
      expect(payload).toBe('');
      expect(packet.event).toBe(event);
      expect(Object.keys(packet.data)).toEqual(['bot_name', 'server_timestamp', 'monitoring', 'auth', 'timestamp', 'timezone', 'message_positions']);
      expect(packet.data).toMatchObject({ server_timestamp: 1752566400123, message_positions: [0, 0] });
    }
  });
});

describe("protocol '3.3': what the phone makes of replies", () => {
  it('decodes text, cuts media by positions, and drops what the script drops', async () => {
    const { client, peer } = await connect();
    const head = { room: '테스트방', channel_id: '1', bot_name: 'LOA.i' };
    const text = Buffer.from('에코: 안녕').toString('base64');
    await peer.write(`${JSON.stringify({ event: 'messageResponse', data: { ...head, message_type: 'text', content_encoding: 'base64', message_positions: [0, text.length] } })}${text}\n`);
    await peer.write(`${JSON.stringify({ event: 'messageResponse', data: { ...head, message_type: 'image', message_positions: [0, 4, 8] } })}QUFBQkJC\n`);
    await peer.write(`${JSON.stringify({ event: 'messageResponse', data: { ...head, message_type: 'video', message_positions: [0, 15] } })}https://x/a.mp4\n`);
    // Dropped by the script: [0,0] positions, an unknown message_type.
    await peer.write(`${JSON.stringify({ event: 'messageResponse', data: { ...head, message_type: 'text', message_positions: [0, 0] } })}SGk=\n`);
    await peer.write(`${JSON.stringify({ event: 'messageResponse', data: { ...head, message_type: 'sticker', message_positions: [0, 4] } })}SGk=\n`);
    await peer.write(`${JSON.stringify({ event: 'scheduleMessage', data: { ...head, message_type: 'text', content_encoding: 'base64', message_positions: [0, 4] } })}SGk=\n`);
    const replies = await client.waitForReplies(4);
    expect(replies.map((r) => r.text)).toEqual(['에코: 안녕', 'IMAGE_BASE64:QUFB|||QkJC', 'MEDIA_URL:https://x/a.mp4', 'Hi']);
    expect(replies[1]).toMatchObject({ message_type: 'image', message_positions: [0, 4, 8], payload: 'QUFBQkJC' });
    await expect(client.waitForReplies(1, 200)).rejects.toThrow(/none came within 200 ms/);
  });
});
