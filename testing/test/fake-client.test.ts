import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signAuth } from '../src/auth-signer.js';
import { FakeBridgeClient, type FakeClientOptions } from '../src/fake-client.js';
import { LineSplitter } from '../src/line-splitter.js';
import { RawLineServer, type RawPeer } from './raw-line-server.js';

const SECRET = '8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8vQw!@#4kLz9^&*1pXyZ2$%6sDq7!@#8';
const SALT = '7f$kLz9^&*1pXyZ2';
const FULL_HANDSHAKE =
  '{"clientType":"MessengerBotR","botName":"LOA.i","version":"3.2.1","deviceID":"a1b2c3d4e5f60718",' +
  '"deviceIP":"192.168.0.23","deviceInfo":"samsung SM-G991N (Android 13, API 33)"}';

/** The signature recomputed here from the block's own fields, as a server would. */
function expectedSignature(auth: Record<string, unknown>, secret = SECRET, salt = SALT): string {
  const fields = ['clientType', 'botName', 'deviceUUID', 'macAddress', 'ipAddress', 'timestamp'].map((k) => String(auth[k] ?? ''));
  return createHmac('sha256', secret).update([...fields, salt].join('|')).digest('hex');
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
  const client = await FakeBridgeClient.connect({ port: server.port, ...options });
  clients.push(client);
  return { client, peer: await server.peer(clients.length - 1) };
}

function reply(text: string, room = '테스트방') {
  return { event: 'messageResponse', data: { room, channel_id: '18445682959392711', bot_name: 'LOA.i', text } };
}

describe('signer', () => {
  it('matches the test vector of PROTOCOL.md §4', () => {
    const fields = { clientType: 'MessengerBotR', botName: 'LOA.i', deviceUUID: 'ccbd8eee1012327e', macAddress: '02:00:00:00:00:00', ipAddress: '192.168.0.10' };
    expect(signAuth(fields, 1752566400000, { secretKey: SECRET, salt: SALT })).toBe(
      '845af89f453e6a9c3dd811f19b012e13d898922394a850bb451b51118736b721',
    );
  });
});

describe('handshake', () => {
  it('writes the full bare handshake first, byte for byte', async () => {
    const { peer } = await connect();
    expect(await peer.line(0)).toBe(FULL_HANDSHAKE);
    expect(peer.bytes.toString('utf8')).toBe(`${FULL_HANDSHAKE}\n`);
  });

  it('writes the minimal three-field handshake', async () => {
    const { peer } = await connect({ handshake: 'minimal', botName: 'kkobot', version: '3.2.0', deviceId: 'ffff000011112222' });
    expect(await peer.line(0)).toBe('{"botName":"kkobot","version":"3.2.0","deviceID":"ffff000011112222"}');
  });

  it('sends a custom handshake object verbatim, or none at all', async () => {
    const custom = await connect({ handshake: { botName: 'LOA.i', version: '' } });
    expect(await custom.peer.line(0)).toBe('{"botName":"LOA.i","version":""}');
    const none = await connect({ handshake: false });
    none.client.sendRaw('first\n');
    expect(await none.peer.line(0)).toBe('first');
  });

  it('resolves handshake with the data of handshakeComplete', async () => {
    const { client, peer } = await connect();
    const data = { success: true, approved: false, message: '승인 대기 중인 디바이스입니다', server_version: '1.0.0' };
    peer.send({ event: 'handshakeComplete', data });
    expect(await client.handshake).toEqual(data);
  });

  it('rejects handshake when the server closes first, naming what it waited for', async () => {
    const { client, peer } = await connect();
    peer.socket.end();
    await expect(client.handshake).rejects.toThrow(/handshakeComplete.*closed/);
    await client.closed;
    expect(client.closeReason).toBe('EOF from server');
  });

  it('rejects handshake after its own deadline', async () => {
    const { client } = await connect({ handshakeTimeoutMs: 50 });
    await expect(client.handshake).rejects.toThrow(/handshakeComplete.*within 50 ms/);
  });
});

describe('analyze', () => {
  it('writes the packet with the script key order and a valid signature', async () => {
    const { client, peer } = await connect();
    const sent = client.analyze('# echo 안녕');
    const line = await peer.line(1);
    const packet = JSON.parse(line);
    expect(line).toBe(JSON.stringify({ event: 'analyze', data: sent }));
    expect(Object.keys(packet)).toEqual(['event', 'data']);
    expect(Object.keys(packet.data)).toEqual([
      'room', 'text', 'sender', 'isGroupChat', 'channelId', 'logId', 'userHash', 'isMention', 'timestamp', 'botName', 'clientType', 'auth',
    ]);
    expect(packet.data).toMatchObject({
      room: '테스트방', text: '# echo 안녕', sender: '홍길동', isGroupChat: true, channelId: '18445682959392711',
      userHash: 'abcd1234', isMention: false, botName: 'LOA.i', clientType: 'MessengerBotR',
    });
    expect(packet.data.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const auth = packet.data.auth;
    expect(Object.keys(auth)).toEqual(['clientType', 'botName', 'deviceUUID', 'deviceID', 'macAddress', 'ipAddress', 'timestamp', 'version', 'signature']);
    expect(auth).toMatchObject({ clientType: 'MessengerBotR', botName: 'LOA.i', deviceID: 'a1b2c3d4e5f60718', ipAddress: '192.168.0.23', version: '3.2.1' });
    expect(Math.abs(auth.timestamp - Date.now())).toBeLessThan(60_000);
    expect(auth.signature).toBe(expectedSignature(auth));
  });

  it('gives every line a distinct logId string above 2^53', async () => {
    const { client } = await connect();
    const ids = [client.analyze('a').logId, client.analyze('b').logId, client.analyze('c').logId];
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) {
      expect(typeof id).toBe('string');
      expect(BigInt(id!)).toBeGreaterThan(2n ** 53n);
    }
  });

  it('applies overrides; userHash null leaves the key out, logId null is sent as null', async () => {
    const { client, peer } = await connect();
    client.analyze({ text: 'x', room: 'r', channelId: null, logId: null, userHash: null, isMention: true, isGroupChat: false });
    const data = JSON.parse(await peer.line(1)).data;
    expect(data).toMatchObject({ room: 'r', channelId: null, logId: null, isMention: true, isGroupChat: false });
    expect('userHash' in data).toBe(false);
  });

  it('builds each auth variant', async () => {
    const { client, peer } = await connect();
    client.analyze('missing', { auth: 'missing' });
    client.analyze('stale', { auth: 'stale' });
    client.analyze('bad', { auth: 'bad-signature' });
    client.analyze('other', { auth: 'other-identity' });
    client.analyze('verbatim', { auth: { foo: 1 } });
    const [missing, stale, bad, other, verbatim] = await Promise.all([1, 2, 3, 4, 5].map(async (i) => JSON.parse(await peer.line(i)).data));
    expect('auth' in missing).toBe(false);
    expect(Date.now() - stale.auth.timestamp).toBeGreaterThan(300_000);
    expect(stale.auth.signature).toBe(expectedSignature(stale.auth));
    expect(bad.auth.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(bad.auth.signature).not.toBe(expectedSignature(bad.auth));
    expect(other.auth.deviceID).not.toBe('a1b2c3d4e5f60718');
    expect(other.auth.signature).toBe(expectedSignature(other.auth));
    expect(verbatim.auth).toEqual({ foo: 1 });
  });

  it('signs with a configured secret and salt', async () => {
    const { client, peer } = await connect({ secretKey: 'other-secret', salt: 'other-salt' });
    client.analyze('x');
    const auth = JSON.parse(await peer.line(1)).data.auth;
    expect(auth.signature).toBe(expectedSignature(auth, 'other-secret', 'other-salt'));
    expect(auth.signature).not.toBe(expectedSignature(auth));
  });

  it('sends the legacy twin right after the line, byte-shaped like the scripts\' response() entry point', async () => {
    const { client, peer } = await connect();
    const sent = client.analyze('hello', { legacyTwin: true });
    const twin = JSON.parse(await peer.line(2)).data;
    expect(JSON.parse(await peer.line(1)).data).toEqual(sent);
    expect(Object.keys(twin)).toEqual([
      'room', 'text', 'sender', 'isGroupChat', 'channelId', 'timestamp', 'botName', 'packageName', 'threadId', 'userHash', 'isMention', 'auth',
    ]);
    expect(twin).toMatchObject({ room: sent.room, text: 'hello', sender: sent.sender, channelId: null, packageName: 'com.kakao.talk', threadId: false, isMention: false });
    expect(twin.userHash).toMatch(/^[0-9a-z_-]{10,}$/);
    expect(twin.userHash).not.toBe(sent.userHash);
    expect(twin.auth.signature).toBe(expectedSignature(twin.auth));
  });
});

describe('pings', () => {
  it('answers a server ping with the echoed timestamp, monitoring and a valid auth block', async () => {
    const { client, peer } = await connect();
    client.analyze({ text: 'a', channelId: '1' });
    client.analyze({ text: 'b', channelId: '2' });
    const ping = { bot_name: 'LOA.i', device_id: 'a1b2c3d4e5f60718', server_timestamp: 1752566400123, is_manual: false, server_info: { total_clients: 1, timestamp: 1752566400123 } };
    peer.send({ event: 'ping', data: ping });
    const answer = JSON.parse(await peer.line(3));
    expect(Object.keys(answer.data)).toEqual(['bot_name', 'server_timestamp', 'monitoring', 'auth']);
    expect(answer).toMatchObject({
      event: 'ping',
      data: {
        bot_name: 'LOA.i',
        server_timestamp: 1752566400123,
        monitoring: { total_memory: 512, memory_usage: 97.3, memory_percent: 19, message_queue_size: 0, active_rooms: 2 },
      },
    });
    expect(answer.data.auth.signature).toBe(expectedSignature(answer.data.auth));
    expect(client.pings).toEqual([ping]);
    expect(await client.nextPacket('ping')).toEqual({ event: 'ping', data: ping });
  });

  it('does not answer with autoPong false', async () => {
    const { client, peer } = await connect({ autoPong: false });
    peer.send({ event: 'ping', data: { server_timestamp: 1 } });
    await client.nextPacket('ping');
    client.sendRaw('marker\n');
    expect(await peer.line(1)).toBe('marker');
  });
});

describe('reading', () => {
  it('splits lines like readLine (\\n, \\r\\n, \\r, split terminators and UTF-8) and records bad lines', async () => {
    const { client, peer } = await connect();
    const korean = Buffer.from(JSON.stringify(reply('에코: 한글')));
    await peer.write(Buffer.concat([korean.subarray(0, korean.length - 8)]));
    await peer.write(Buffer.concat([korean.subarray(korean.length - 8), Buffer.from('\r')]));
    await peer.write(`\n${JSON.stringify(reply('two'))}\r${JSON.stringify(reply('three'))}\nnot json\n[1]\n`);
    await peer.write(`${JSON.stringify(reply('four'))}\r\n`);
    const texts = (await client.waitForReplies(4)).map((r) => r.text);
    expect(texts).toEqual(['에코: 한글', 'two', 'three', 'four']);
    expect(client.badLines).toEqual(['not json', '[1]']);
  });

  it('keeps the order of replies and hands each out once', async () => {
    const { client, peer } = await connect();
    for (const text of ['1', '2', '3']) peer.send(reply(text));
    expect((await client.nextReply()).text).toBe('1');
    expect((await client.waitForReplies(2)).map((r) => r.text)).toEqual(['2', '3']);
    expect(client.replies.map((r) => r.text)).toEqual(['1', '2', '3']);
  });

  it('reads a final line without terminator at EOF', async () => {
    const { client, peer } = await connect();
    peer.socket.end(JSON.stringify(reply('last')));
    expect((await client.nextReply()).text).toBe('last');
    await client.closed;
  });

  it('stops and resumes reading', async () => {
    const { client, peer } = await connect();
    client.stopReading();
    const big = JSON.stringify(reply('x'.repeat(1_000_000)));
    const count = 40;
    for (let i = 0; i < count; i++) peer.socket.write(`${big}\n`);
    // 40 MB cannot all sit in kernel buffers: while the client does not read, some stays queued here.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(peer.socket.writableLength).toBeGreaterThan(0);
    expect(client.replies.length).toBeLessThan(count);
    client.resumeReading();
    expect(await client.waitForReplies(count, 20_000)).toHaveLength(count);
  }, 30_000);
});

describe('waiting', () => {
  it('times out naming what it waited for and what came instead', async () => {
    const { client, peer } = await connect();
    peer.send({ event: 'ping', data: { server_timestamp: 5 } });
    await client.nextPacket('ping');
    await expect(client.nextReply(100)).rejects.toThrow(/waited for a messageResponse, but none came within 100 ms; nothing arrived during the wait; last received: .*"event":"ping"/);
    await expect(client.waitForReplies(2, 50)).rejects.toThrow(/2 messageResponse packets.*within 50 ms.*connection open/);
  });

  it('fails pending waits at once when the server closes', async () => {
    const { client, peer } = await connect();
    const waiting = client.nextReply(60_000);
    peer.socket.end();
    await expect(waiting).rejects.toThrow(/messageResponse, but the connection closed \(EOF from server\)/);
    await expect(client.nextPacket('ping', 60_000)).rejects.toThrow(/'ping' packet, but the connection is closed/);
  });

  it('close() is idempotent and fails pending waits', async () => {
    const { client, peer } = await connect();
    const waiting = expect(client.nextReply(60_000)).rejects.toThrow(/connection closed \(closed by the test\)/);
    const first = client.close();
    expect(client.close()).toBe(first);
    await first;
    await waiting;
    await client.closed;
    expect(await peer.ended()).toBe(true);
    client.analyze('after close is a no-op');
  });

  it('rejects connect to a port nobody listens on', async () => {
    const port = server.port;
    await server.close();
    server = await RawLineServer.start();
    await expect(FakeBridgeClient.connect({ port })).rejects.toThrow(new RegExp(`cannot connect to 127.0.0.1:${port}`));
  });
});

describe('shouldReply / shouldNotReply', () => {
  /** A peer that answers every analyze with the given texts. */
  function answer(peer: RawPeer, respond: (text: string) => string[]): void {
    let seen = 1;
    peer.socket.on('data', () => {
      const lines = peer.lines;
      for (; seen < lines.length; seen++) {
        const packet = JSON.parse(lines[seen]!);
        if (packet.event === 'analyze') for (const text of respond(packet.data.text)) peer.send(reply(text));
      }
    });
  }

  it('passes on matching texts, patterns and several replies', async () => {
    const { client, peer } = await connect();
    answer(peer, (text) => (text === 'two' ? ['a', 'b'] : [`에코: ${text}`]));
    await client.shouldReply('hello', '에코: hello');
    await client.shouldReply('x', /^에코: /);
    await client.shouldReply('two', ['a', /b/]);
  });

  it('throws a readable diff on a different text', async () => {
    const { client, peer } = await connect();
    answer(peer, () => ['에코: helo']);
    const error = await client.shouldReply('hello', '에코: hello').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('shouldReply("hello"): 1 reply as expected, but not the expected text');
    expect((error as Error).message).toContain('expected: "에코: hello"');
    expect((error as Error).message).toContain('actual: "에코: helo"');
  });

  it('throws when fewer replies come, listing those that did', async () => {
    const { client, peer } = await connect();
    answer(peer, () => ['only one']);
    await expect(client.shouldReply('q', ['only one', 'second'], { timeoutMs: 200 })).rejects.toThrow(
      /expected 2 replies, got 1[\s\S]*actual: "only one"[\s\S]*#2 expected: "second"[\s\S]*actual: \(no reply\)[\s\S]*within 200 ms/,
    );
  });

  it('shouldNotReply passes on silence and throws on a reply or a closed connection', async () => {
    const { client, peer } = await connect();
    answer(peer, (text) => (text === 'speak' ? ['said'] : []));
    await client.shouldNotReply('quiet', { quietMs: 100 });
    await expect(client.shouldNotReply('speak', { quietMs: 500 })).rejects.toThrow(/got 1 reply: "said"/);
    peer.socket.end();
    await client.closed;
    await expect(client.shouldNotReply('quiet', { quietMs: 10 })).rejects.toThrow(/connection is closed/);
  });
});

describe('LineSplitter', () => {
  it('treats \\r then \\n in the next chunk as one terminator and keeps empty lines', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(Buffer.from('a\r'))).toEqual(['a']);
    expect(splitter.push(Buffer.from('\nb\n\nc'))).toEqual(['b', '']);
    expect(splitter.end()).toBe('c');
    expect(splitter.end()).toBeUndefined();
  });
});
