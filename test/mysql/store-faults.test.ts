import { describe, expect, it } from 'vitest';
import { definePlugin, usePlugin } from '@botbridge/sdk';
import { chatLog } from '@botbridge/plugin-chat-log';
import { openStore } from '@botbridge/core';
import type { TestBridge } from '@botbridge/testing';
import type { TcpProxy } from '../../core/test/store/tcp-proxy.js';
import { MYSQL_SERVER, rows, until, useMysql } from './mysql-harness.js';

/**
 * The database stopped, slowed down and restarted under traffic, played by a TCP proxy between
 * botbridge and the real MariaDB (never the server itself: other tests share it). Fail closed:
 * no approval is granted during the fault, live connections keep their cached approval for
 * approval.staleAfterMs, pings keep flowing, writes wait in their bounded buffers, and
 * everything recovers without a restart.
 */

const echo = definePlugin({
  name: 'echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => (message.text.startsWith('# echo ') ? `에코: ${message.text.slice(7)}` : undefined));
  },
});

const BOT = 'LOA.i';
const CHANNEL = '18445682959392711';
const say = (text: string) => ({ text: `# echo ${text}`, channelId: CHANNEL });

describe.skipIf(MYSQL_SERVER === undefined)('store faults', { timeout: 60_000 }, () => {
  const my = useMysql();

  /** Devices phone-a and phone-b and the room approved; phone-a connected and answered. */
  async function running(): Promise<{ t: TestBridge; proxy: TcpProxy; url: string }> {
    const url = await my.database();
    const seed = await openStore(url);
    for (const deviceId of ['phone-a', 'phone-b']) {
      await seed.registerDevice({ botName: BOT, deviceId, ipAddress: null, clientType: 'MessengerBotR', clientVersion: '3.2.1', initialStatus: 'approved' });
    }
    await seed.registerRoom({ botName: BOT, roomId: CHANNEL, roomName: '테스트방', initialStatus: 'approved' });
    await seed.close();
    const proxy = await my.proxy(url);
    const t = await my.bridge({
      autoApprove: false,
      plugins: [echo, usePlugin(chatLog, {})],
      config: {
        store: { url: proxy.urlFor(url), queryTimeoutMs: 300, connectTimeoutMs: 300 },
        approval: { refreshIntervalMs: 100, fullRefreshIntervalMs: 500, staleAfterMs: 2_000 },
        session: { pingIntervalMs: 200, pingJitterMs: 0 },
      },
    });
    return { t, proxy, url };
  }

  const health = (t: TestBridge) => t.bridge.admin.stats().store.health;

  it('stopped: nothing is approved, live connections are served until stale, pings flow, all recovers', async () => {
    const { t, proxy, url } = await running();
    const a = await my.phone(t, { deviceId: 'phone-a' });
    expect(await a.handshake).toMatchObject({ approved: true });
    await a.shouldReply(say('전'), '에코: 전');

    proxy.setMode('refuse');
    proxy.dropAll();
    await until('the store is degraded', () => expect(health(t)).toBe('degraded'));
    expect(t.bridge.admin.counters.get('store_health', 'degraded')).toBe(1);

    // A known, approved device and an unknown one: answered, connected, never approved.
    const b = await my.phone(t, { deviceId: 'phone-b' });
    expect(await b.handshake).toMatchObject({ success: true, approved: false });
    const n = await my.phone(t, { deviceId: 'phone-new' });
    expect(await n.handshake).toMatchObject({ success: true, approved: false });
    await b.shouldNotReply(say('b'), { quietMs: 300 });
    // Approved meanwhile on the real server: botbridge cannot see it, so it grants nothing.
    const sql = await my.sql(url);
    await sql.query("insert into kb_bot_devices (bot_name, device_id, status, created_at, updated_at) values ('LOA.i', 'phone-new', 'approved', now(3), now(3))");
    await n.shouldNotReply(say('n'), { quietMs: 300 });

    // The live connection keeps its cached approval, and its pings keep coming and are buffered.
    await a.shouldReply(say('중'), '에코: 중');
    expect(t.bridge.clients().find((c) => c.deviceId === 'phone-a')?.approval).toBe('approved');
    const pingsBefore = a.pings.length;
    await until('pings keep flowing', () => expect(a.pings.length).toBeGreaterThanOrEqual(pingsBefore + 2));
    expect(t.bridge.stats().writers.ping).toBeGreaterThan(0);

    // ...for a bounded time: once stale, it is no longer answered (and stays connected).
    await until('approvals are stale', () => expect(t.bridge.admin.stats().store.approvalsFresh).toBe(false));
    await a.shouldNotReply(say('늦음'), { quietMs: 300 });
    expect(a.closeReason).toBeNull();
    expect(t.bridge.clients().find((c) => c.deviceId === 'phone-a')?.approval).toBe('pending');
    expect(t.bridge.admin.roomApproval(BOT, CHANNEL)?.status).toBe('pending');

    proxy.setMode('forward');
    await until('the store is healthy again', () => expect(health(t)).toBe('healthy'));
    expect(t.bridge.admin.counters.get('store_health', 'healthy')).toBe(1);
    await until('a is answered again', () => a.shouldReply(say('후'), '에코: 후', { timeoutMs: 300 }));
    await until('b is answered after the recovery', () => b.shouldReply(say('b2'), '에코: b2', { timeoutMs: 300 }));
    await until('the device approved during the outage is answered now', () => n.shouldReply(say('n2'), '에코: n2', { timeoutMs: 300 }));

    // Buffered pings reached the table; nothing was dropped.
    await until('buffered pings written', async () => {
      const [{ n: count }] = await rows<{ n: number }>(sql, "select count(*) as n from kb_ping_monitor where device_id = 'phone-a'");
      expect(count).toBeGreaterThanOrEqual(pingsBefore + 2);
    });
    expect(t.bridge.admin.counters.total('store_writes_dropped')).toBe(0);
    expect(t.bridge.stats().phase).toBe('running');
  });

  it('slowed beyond the query timeout: handshakes do not hang and are not approved; recovers', async () => {
    const { t, proxy } = await running();
    const a = await my.phone(t, { deviceId: 'phone-a' });
    await a.handshake;

    // Slow but within the deadline: business as usual.
    proxy.setDelay(20);
    const b = await my.phone(t, { deviceId: 'phone-b' });
    expect(await b.handshake).toMatchObject({ approved: true });
    await b.shouldReply(say('느림'), '에코: 느림');
    expect(health(t)).toBe('healthy');
    await b.close();

    proxy.setDelay(1_000);
    await until('the store is degraded', () => expect(health(t)).toBe('degraded'));
    const late = await my.phone(t, { deviceId: 'phone-b' });
    expect(await late.handshake).toMatchObject({ success: true, approved: false });
    const unknown = await my.phone(t, { deviceId: 'phone-x' });
    expect(await unknown.handshake).toMatchObject({ success: true, approved: false });
    await late.shouldNotReply(say('x'), { quietMs: 300 });
    await a.shouldReply(say('캐시'), '에코: 캐시');

    proxy.setDelay(0);
    await until('the store is healthy again', () => expect(health(t)).toBe('healthy'));
    await until('the late handshake is approved now', () => late.shouldReply(say('y'), '에코: y', { timeoutMs: 300 }));
    // The device that could not be registered during the fault was registered on recovery.
    await until('phone-x registered', async () => {
      expect((await t.bridge.admin.device(BOT, 'phone-x'))?.status).toBe('pending');
    });
    expect(t.bridge.stats().phase).toBe('running');
  });

  it('restarted under traffic: every message answered and logged, no approval granted meanwhile', async () => {
    const { t, proxy, url } = await running();
    const a = await my.phone(t, { deviceId: 'phone-a' });
    await a.handshake;
    const sent: string[] = [];
    const send = async (count: number) => {
      for (let i = 0; i < count; i += 1) {
        const text = `m${sent.length}`;
        sent.push(text);
        a.analyze(say(text));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await send(10);
    // The server goes down and comes back while messages keep coming.
    proxy.setMode('refuse');
    proxy.dropAll();
    const during = send(10);
    await until('the store is degraded', () => expect(health(t)).toBe('degraded'));
    const b = await my.phone(t, { deviceId: 'phone-b' });
    expect(await b.handshake).toMatchObject({ approved: false });
    await during;
    proxy.setMode('forward');
    await send(10);

    const replies = await a.waitForReplies(30, 10_000);
    expect(replies.map((r) => r.text)).toEqual(sent.map((text) => `에코: ${text}`));
    await until('the store is healthy again', () => expect(health(t)).toBe('healthy'));
    const sql = await my.sql(url);
    await until('every message and reply in the chat log', async () => {
      const logged = await rows<{ message: string }>(sql, "select message from kb_chat_logs where bot_name = 'LOA.i' order by id");
      expect(logged.map((r) => r.message).filter((m) => !m.startsWith('에코')).sort()).toEqual(sent.map((text) => `# echo ${text}`).sort());
      expect(logged).toHaveLength(60);
    });
    expect(t.bridge.admin.counters.total('store_writes_dropped')).toBe(0);
    await until('b is approved after the recovery', () => b.shouldReply(say('b'), '에코: b', { timeoutMs: 300 }));
  });
});
