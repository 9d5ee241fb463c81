import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBridgeMetrics } from '../../core/src/http/index.js';
import { resolveConfig } from '../../core/src/config/load-config.js';
import { BridgeError } from '../../core/src/errors.js';
import { BOT, DEVICE, analyzeLine, counter, echoPlugin, eventually, expectCounter, signedAnalyze, useBridges } from './helpers.js';

/**
 * Issue 13, findings 3, 4 and 6: a captured line replayed within the auth window is refused
 * (with or without a logId) while the deployed scripts' reuse of one auth block for every packet
 * of a second still passes; secrets shorter than 16 bytes refuse the start; several secrets with
 * validity windows rotate a fleet with zero rejected packets, reloaded from auth.secretsFile
 * without a restart; no key ever shows in logs, metrics, stats or errors.
 */

const { bridge, tempDir } = useBridges();

describe('replays', () => {
  it('refuses a byte-identical replay of a line with a logId and of one without', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client({ deviceId: DEVICE });
    const withId = analyzeLine(signedAnalyze({ text: 'with id' }));
    const withoutId = analyzeLine({ ...signedAnalyze({ text: 'without id' }), logId: null });
    phone.sendRaw(withId + withoutId);
    expect((await phone.waitForReplies(2)).map((r) => r.text)).toEqual(['에코: with id', '에코: without id']);
    phone.sendRaw(withId + withoutId);
    // The logId line's replay is reported as the duplicate it is; the logId-less one, which dedup
    // cannot recognise, as a refused replay.
    await expectCounter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_REPLAYED', 1);
    await expectCounter(t, 'dedup_drops', 'duplicate', 1);
    await phone.shouldReply('after the replays', '에코: after the replays');
    expect(phone.replies).toHaveLength(3);
  });

  it('leaves logId lines to dedup: a replay within the dedup window is a duplicate, and the replay cache stays empty', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client({ deviceId: DEVICE });
    const line = analyzeLine(signedAnalyze({ text: 'pay 100' }));
    phone.sendRaw(line);
    await phone.nextReply();
    phone.sendRaw(line);
    await expectCounter(t, 'dedup_drops', 'duplicate', 1);
    await phone.shouldReply('after', '에코: after');
    expect(phone.replies.map((r) => r.text)).toEqual(['에코: pay 100', '에코: after']);
    expect(t.bridge.admin.counters.get('auth_failures', 'BRIDGE_ERR_AUTH_REPLAYED')).toBe(0);
  });

  it('refuses a replay on a new connection of the same device (the cache is per identity, not per socket)', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const line = analyzeLine({ ...signedAnalyze({ text: 'captured' }), logId: null });
    const first = await t.client({ deviceId: DEVICE });
    first.sendRaw(line);
    await first.nextReply();
    await first.close();
    const second = await t.client({ deviceId: DEVICE });
    second.sendRaw(line);
    await expectCounter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_REPLAYED', 1);
    await second.shouldReply('fresh', '에코: fresh');
    expect(second.replies).toHaveLength(1);
  });

  it('accepts one auth block reused for different packets within its second, as v3.2 scripts do', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    const phone = await t.client({ deviceId: DEVICE });
    const a = signedAnalyze({ text: 'one' });
    const b = { ...signedAnalyze({ text: 'two' }), auth: a.auth };
    const c = { ...signedAnalyze({ text: 'three' }), auth: a.auth, logId: null };
    phone.sendRaw(analyzeLine(a) + analyzeLine(b) + analyzeLine(c));
    expect((await phone.waitForReplies(3)).map((r) => r.text)).toEqual(['에코: one', '에코: two', '에코: three']);
    // The legacy twin (same chat line, no logId, random userHash) is not a replay either.
    phone.analyze('twin', { legacyTwin: true });
    await phone.nextReply();
    await phone.shouldReply('after', '에코: after');
    expect(counter(t, 'auth_failures')).toBe(0);
  });
});

describe('secrets', () => {
  it('refuses a secret shorter than 16 bytes, naming the path and not the key', () => {
    for (const auth of [{ secretKey: 'short-key' }, { bots: { [BOT]: { secretKey: 'x' } } }, { secrets: [{ key: 'tiny-secret' }] }]) {
      let error: unknown;
      try {
        resolveConfig({ auth });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(BridgeError);
      expect((error as BridgeError).code).toBe('BRIDGE_ERR_CONFIG_INVALID');
      expect((error as Error).message).toMatch(/auth\.(secretKey|bots|secrets)/);
      expect((error as Error).message).not.toMatch(/short-key|tiny-secret|"x"/);
    }
    expect(() => resolveConfig({ auth: { secretKey: 'sixteen-bytes-ok' } })).not.toThrow();
  });

  it('rotates a fleet with zero rejected packets during the overlap, then retires the old key from the secrets file', async () => {
    const dir = await tempDir();
    const file = join(dir, 'secrets.json');
    const OLD = 'old-fleet-secret-0001';
    const NEW = 'new-fleet-secret-0002';
    const now = Date.now();
    await writeFile(file, JSON.stringify({ secrets: [{ key: OLD }, { key: NEW, validFrom: new Date(now - 1_000).toISOString() }] }));
    const t = await bridge({ plugins: [echoPlugin], captureLogs: true, config: { auth: { secretsFile: file, secretsReloadMs: 50 } } });
    const oldPhone = await t.client({ deviceId: '1111111111111111', secretKey: OLD, autoPong: false });
    const newPhone = await t.client({ deviceId: '2222222222222222', secretKey: NEW, autoPong: false });
    for (let i = 0; i < 5; i++) {
      await oldPhone.shouldReply(`old ${i}`, `에코: old ${i}`);
      await newPhone.shouldReply(`new ${i}`, `에코: new ${i}`);
    }
    expect(counter(t, 'auth_failures')).toBe(0);

    // An invalid edit (a weak key) keeps the previous keyring: nothing is locked out.
    await writeFile(file, JSON.stringify({ secrets: [{ key: 'weakkey-10' }] }));
    await t.waitForLog('secrets file not reloaded; keeping the previous secrets');
    await oldPhone.shouldReply('still old', '에코: still old');

    // The overlap ends: only the new key, picked up without a restart.
    await writeFile(file, JSON.stringify({ secrets: [{ key: NEW }] }));
    await t.waitForLog('secrets file reloaded');
    await newPhone.shouldReply('new only', '에코: new only');
    oldPhone.analyze('old refused');
    await expectCounter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_SIGNATURE', 1);

    // No key material in any output: logs, stats, metrics.
    const metrics = createBridgeMetrics(t.bridge);
    const outputs = [...t.rawLogs, JSON.stringify(t.bridge.stats()), await metrics.scrape()].join('\n');
    metrics.close();
    for (const key of [OLD, NEW, 'weakkey-10']) expect(outputs.includes(`"${key}"`) || outputs.includes(key.slice(0, 12)), `${key}: ${outputs.split('\n').filter((l) => l.includes(key.slice(0, 12)) || l.includes(`"${key}"`)).join('\n')}`).toBe(false);
  });

  it('rotates the config\'s own secrets with `botbridge reload`, without a restart or a dropped connection', async () => {
    const OLD = 'old-config-secret-0005';
    const NEW = 'new-config-secret-0006';
    const config = (secrets: { key: string }[]) => ({ plugins: [echoPlugin], auth: { secrets }, store: { url: t.storeUrl }, approval: { autoApprove: true }, log: { level: 'silent' as const } });
    const t = await bridge({ plugins: [echoPlugin], captureLogs: true, config: { auth: { secrets: [{ key: OLD }] } } });
    const oldPhone = await t.client({ deviceId: '5555555555555555', secretKey: OLD, autoPong: false });
    await oldPhone.shouldReply('before', '에코: before');

    // The overlap: both keys, reloaded; the old phone's connection stays open and served.
    const overlap = await t.bridge.reload(config([{ key: OLD }, { key: NEW }]));
    expect(overlap).toMatchObject({ ok: true });
    expect(overlap.restartRequired.filter((path) => path.startsWith('auth'))).toEqual([]);
    const newPhone = await t.client({ deviceId: '6666666666666666', secretKey: NEW, autoPong: false });
    await newPhone.shouldReply('new', '에코: new');
    await oldPhone.shouldReply('old during overlap', '에코: old during overlap');
    expect(counter(t, 'auth_failures')).toBe(0);

    // A weak key in a reload is refused; the keys in use stay.
    expect(await t.bridge.reload(config([{ key: 'weakkey-10' }]))).toMatchObject({ ok: false, error: { code: 'BRIDGE_ERR_CONFIG_INVALID' } });
    await oldPhone.shouldReply('still old', '에코: still old');

    // The overlap ends: the old key is refused from the next packet on.
    expect(await t.bridge.reload(config([{ key: NEW }]))).toMatchObject({ ok: true });
    await newPhone.shouldReply('new only', '에코: new only');
    oldPhone.analyze('old refused');
    await expectCounter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_SIGNATURE', 1);
    await t.waitForLog('signing secrets of the config reloaded');
    const outputs = [...t.rawLogs, JSON.stringify(t.bridge.stats())].join('\n');
    for (const key of [OLD, NEW, 'weakkey-10']) expect(outputs.includes(`"${key}"`) || outputs.includes(key.slice(0, 12)), `${key}: ${outputs.split('\n').filter((l) => l.includes(key.slice(0, 12)) || l.includes(`"${key}"`)).join('\n')}`).toBe(false);
  });

  it('honours validity windows: a secret not yet valid or expired is refused', async () => {
    const now = Date.now();
    const FUTURE = 'future-secret-000003';
    const PAST = 'expired-secret-00004';
    const t = await bridge({
      plugins: [echoPlugin],
      config: { auth: { secrets: [{ key: FUTURE, validFrom: now + 3_600_000 }, { key: PAST, validUntil: now - 1 }] } },
    });
    const future = await t.client({ deviceId: '3333333333333333', secretKey: FUTURE, autoPong: false });
    future.analyze('too early');
    const past = await t.client({ deviceId: '4444444444444444', secretKey: PAST, autoPong: false });
    past.analyze('too late');
    await expectCounter(t, 'auth_failures', 'BRIDGE_ERR_AUTH_SIGNATURE', 2);
    expect(future.replies.length + past.replies.length).toBe(0);
  });

  it('warns once at start that the built-in key is public', async () => {
    const t = await bridge({ plugins: [echoPlugin], captureLogs: true });
    const line = await t.waitForLog(/built into the deployed scripts: it is public/);
    expect(line.level).toBe(40);
    await eventually('started', () => t.port > 0);
  });
});
