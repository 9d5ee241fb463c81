import { describe, expect, it } from 'vitest';
import { analyzeLine, authBlockFor, BOT, counter, DEVICE, echoPlugin, eventually, expectCounter, signedAnalyze, useBridges } from './helpers.js';

/**
 * PROTOCOL.md §4 (botbridge enforces): a packet with missing, invalid, stale or foreign auth is
 * dropped and counted; repeated failures close the connection. Each check sends the bad packet
 * first and a good one after: replies of a room keep message order, so had the bad one been
 * processed its reply would come first.
 */

const { bridge } = useBridges();

describe('auth enforcement', () => {
  const cases = [
    { variant: 'missing', code: 'BRIDGE_ERR_AUTH_MISSING' },
    { variant: 'bad-signature', code: 'BRIDGE_ERR_AUTH_SIGNATURE' },
    { variant: 'stale', code: 'BRIDGE_ERR_AUTH_STALE' },
    { variant: 'other-identity', code: 'BRIDGE_ERR_AUTH_IDENTITY' },
  ] as const;

  for (const { variant, code } of cases) {
    it(`drops and counts a packet with ${variant} auth; the connection stays`, async () => {
      const t = await bridge({ plugins: [echoPlugin] });
      const phone = await t.client();
      phone.analyze('bad', { auth: variant });
      await phone.shouldReply('good', '에코: good');
      expect(counter(t, 'auth_failures', code)).toBe(1);
      expect(phone.closeReason).toBeNull();
    });
  }

  it('drops a validly signed block of another botName (identity mismatch)', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.analyze('bad', { auth: authBlockFor('otherBot', DEVICE) });
    await phone.shouldReply('good', '에코: good');
    expect(counter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_IDENTITY')).toBe(1);
  });

  it('drops a malformed auth block', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    phone.analyze('bad', { auth: { ...authBlockFor(BOT, DEVICE), timestamp: 'soon' } });
    await phone.shouldReply('good', '에코: good');
    expect(counter(t, 'auth_failures')).toBe(1);
  });

  it('closes the connection after 5 failures within the window', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    for (let i = 0; i < 5; i++) phone.analyze(`bad ${i}`, { auth: 'bad-signature' });
    await phone.closed;
    expect(phone.replies).toEqual([]);
    expect(counter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_SIGNATURE')).toBe(5);
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_AUTH_REPEATED', 1);
  });

  it('four failures do not close the connection', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    for (let i = 0; i < 4; i++) phone.analyze(`bad ${i}`, { auth: 'missing' });
    await phone.shouldReply('good', '에코: good');
    expect(phone.closeReason).toBeNull();
  });

  it('honours auth.maxFailures', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { auth: { maxFailures: 2 } } });
    const phone = await t.client();
    phone.analyze('bad 1', { auth: 'stale' });
    phone.analyze('bad 2', { auth: 'stale' });
    await phone.closed;
    await expectCounter(t, 'disconnects', 'BRIDGE_ERR_AUTH_REPEATED', 1);
  });

  it('a ping answer with bad auth is dropped and not recorded', async () => {
    const t = await bridge({ config: { session: { pingIntervalMs: 100, pingJitterMs: 0 } } });
    const phone = await t.client({ autoPong: false });
    const ping = (await phone.nextPacket('ping')).data as { server_timestamp: number };
    phone.sendRaw(`${JSON.stringify({ event: 'ping', data: { bot_name: BOT, server_timestamp: ping.server_timestamp, monitoring: {}, auth: {} } })}\n`);
    await phone.nextPacket('ping');
    await phone.nextPacket('ping');
    expect(counter(t, 'auth_failures')).toBe(1);
    expect(counter(t, 'pings_answered')).toBe(0);
  });
});

describe('replay', () => {
  // Issue 13: the auth guard refuses the replay itself (replay-and-secrets.test.ts has the rest);
  // dedup stays the second line of defence for the same logId under another valid block.
  it('a captured packet replayed with its valid auth block is refused by the replay guard as a duplicate', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    const captured = phone.analyze('pay 100');
    expect((await phone.nextReply()).text).toBe('에코: pay 100');
    phone.sendRaw(analyzeLine(captured));
    await phone.shouldReply('next', '에코: next');
    // Reported as the duplicate it is, and refused even if dedup had forgotten the logId.
    expect(counter(t, 'dedup_drops', 'duplicate')).toBe(1);
    expect(counter(t, 'auth_failures')).toBe(0);
  });

  it('the same logId under a fresh valid auth block is dropped by dedup', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client();
    const first = signedAnalyze({ text: 'pay 100' });
    phone.sendRaw(analyzeLine(first));
    expect((await phone.nextReply()).text).toBe('에코: pay 100');
    await new Promise((resolve) => setTimeout(resolve, 5));
    phone.sendRaw(analyzeLine({ ...signedAnalyze({ text: 'pay 100' }), logId: first.logId }));
    await phone.shouldReply('next', '에코: next');
    expect(counter(t, 'dedup_drops')).toBe(1);
    expect(counter(t, 'auth_failures')).toBe(0);
  });
});

describe('configured keys', () => {
  const perBot = { auth: { bots: { [BOT]: { secretKey: 'bot-secret-key-0123', salt: 'bot-salt' } } } };

  it('a client signing with the default key fails when its bot has its own key', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: perBot });
    // No ping answers: signed with the same default key, one would be a second failure.
    const phone = await t.client({ autoPong: false });
    await phone.shouldNotReply('default key');
    expect(counter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_SIGNATURE')).toBe(1);
  });

  it('a client signing with its bot key passes; other bots keep the global key', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: perBot });
    const own = await t.client({ secretKey: 'bot-secret-key-0123', salt: 'bot-salt' });
    await own.shouldReply('signed', '에코: signed');
    const other = await t.client({ botName: 'otherBot' });
    await other.shouldReply('global', '에코: global');
    expect(counter(t, 'auth_failures')).toBe(0);
  });

  it('a global secret and salt replace the built-in ones', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { auth: { secretKey: 'global-secret-0123', salt: 'global-salt' } } });
    const builtIn = await t.client({ deviceId: '1111111111111111' });
    builtIn.analyze('built-in key');
    const configured = await t.client({ deviceId: '2222222222222222', secretKey: 'global-secret-0123', salt: 'global-salt' });
    await configured.shouldReply('configured', '에코: configured');
    await eventually('the built-in key is refused', () => counter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_SIGNATURE') === 1);
    await builtIn.shouldNotReply('built-in key again');
  });
});

describe("auth.mode 'log'", () => {
  it('processes a message with bad auth anyway and still counts the failure', async () => {
    const t = await bridge({ plugins: [echoPlugin], config: { auth: { mode: 'log' } } });
    const phone = await t.client();
    phone.analyze('missing', { auth: 'missing' });
    phone.analyze('bad', { auth: 'bad-signature' });
    expect((await phone.waitForReplies(2)).map((r) => r.text)).toEqual(['에코: missing', '에코: bad']);
    expect(counter(t, 'auth_failures')).toBe(2);
    for (let i = 0; i < 6; i++) phone.analyze(`more ${i}`, { auth: 'missing' });
    await phone.waitForReplies(6);
    expect(phone.closeReason).toBeNull();
  });
});
