import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { usePlugin } from '@botbridge/sdk';
import { commands } from '@botbridge/plugin-commands';
import type { FakeBridgeClient } from '@botbridge/testing';
import { BOT, CHANNEL, counter, DEVICE, expectNoClients, useBridges } from './helpers.js';

/** PROTOCOL.md §5: a reply needs an approved device and an approved room; changes apply live. */

const { bridge, tempDir } = useBridges();
const echoCommands = usePlugin(commands, {});
const BIN = fileURLToPath(new URL('../../core/bin/botbridge.js', import.meta.url));

/** Runs the real `botbridge` CLI in a child process (a second writer of the store file). */
function botbridgeCli(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') return reject(error);
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

/** Retries `# echo` until the bridge answers (approval changes from another process are polled). */
async function echoUntilAnswered(phone: FakeBridgeClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await phone.shouldReply('# echo hello', '에코: hello', { timeoutMs: 250 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

describe('approval gating', () => {
  it('a pending device gets no reply and stays connected', async () => {
    const t = await bridge({ autoApprove: false, plugins: [echoCommands] });
    const phone = await t.client();
    expect(await phone.handshake).toMatchObject({ approved: false });
    await phone.shouldNotReply('# echo hello', { quietMs: 500 });
    expect(t.bridge.clients()).toMatchObject([{ deviceId: DEVICE, approval: 'pending' }]);
    expect(counter(t, 'messages', 'device_not_approved')).toBeGreaterThanOrEqual(1);
  });

  it('approving device and room takes effect on the live connection', async () => {
    const t = await bridge({ autoApprove: false, plugins: [echoCommands] });
    const phone = await t.client();
    await phone.shouldNotReply('# echo hello');
    await t.setDeviceStatus(BOT, DEVICE, 'approved');
    await t.setRoomStatus(BOT, CHANNEL, 'approved');
    await echoUntilAnswered(phone, 3_000);
    expect(phone.closeReason).toBeNull();
    expect(t.bridge.clients()).toMatchObject([{ approval: 'approved' }]);
  });

  it('approvals written by the CLI in another process are picked up without a reconnect', async () => {
    const dir = await tempDir();
    const url = `sqlite:${join(dir, 'shared.db')}`;
    const t = await bridge({ autoApprove: false, plugins: [echoCommands], config: { store: { url }, approval: { refreshIntervalMs: 200 } } });
    const phone = await t.client();
    await phone.shouldNotReply('# echo hello');
    expect(await botbridgeCli(['devices', 'approve', BOT, DEVICE, '--store', url], dir)).toMatchObject({ code: 0 });
    expect(await botbridgeCli(['rooms', 'approve', BOT, CHANNEL, '--store', url], dir)).toMatchObject({ code: 0 });
    await echoUntilAnswered(phone, 5_000);

    expect(await botbridgeCli(['devices', 'revoke', BOT, DEVICE, '--store', url], dir)).toMatchObject({ code: 0 });
    await phone.closed;
    await expectNoClients(t);
  }, 60_000);

  it('revoking a device disconnects it, and its reconnect is refused', async () => {
    const t = await bridge({ plugins: [echoCommands] });
    const phone = await t.client();
    await phone.shouldReply('# echo hello', '에코: hello');
    await t.setDeviceStatus(BOT, DEVICE, 'revoked');
    await phone.closed;
    expect(phone.closeReason).not.toBe('closed by the test');
    const again = await t.client();
    expect(await again.handshake).toMatchObject({ success: false, message: '접근이 차단된 디바이스입니다 (revoked)' });
    await again.closed;
  });

  it('room approval is independent of device approval', async () => {
    const t = await bridge({ autoApprove: false, plugins: [echoCommands] });
    await t.setDeviceStatus(BOT, DEVICE, 'approved');
    const phone = await t.client();
    expect(await phone.handshake).toMatchObject({ approved: true });
    // The device is approved but this room is pending (registered by its first message).
    await phone.shouldNotReply('# echo hello');
    expect(counter(t, 'messages', 'room_not_approved')).toBeGreaterThanOrEqual(1);
    await t.setRoomStatus(BOT, '999', 'approved');
    await phone.shouldReply({ text: '# echo hello', room: '다른방', channelId: '999' }, '에코: hello');
    await phone.shouldNotReply('# echo hello');
  });

  it('an approved room of an unapproved device gets no reply', async () => {
    const t = await bridge({ autoApprove: false, plugins: [echoCommands] });
    await t.setRoomStatus(BOT, CHANNEL, 'approved');
    const phone = await t.client();
    await phone.shouldNotReply('# echo hello');
  });

  it('a denied room gets no reply, other rooms still do', async () => {
    const t = await bridge({ plugins: [echoCommands] });
    const phone = await t.client();
    await phone.shouldReply('# echo hello', '에코: hello');
    await t.setRoomStatus(BOT, CHANNEL, 'denied');
    await phone.shouldNotReply('# echo hello');
    await phone.shouldReply({ text: '# echo hello', room: '다른방', channelId: '777' }, '에코: hello');
    expect(phone.closeReason).toBeNull();
  });
});
