import { describe, expect, it } from 'vitest';
import { definePlugin, type BridgeApi } from '@botbridge/sdk';
import { BOT, DEVICE, echoPlugin, eventually, expectNoClients, useBridges } from './helpers.js';

/**
 * `bridge.admin` is the one surface tools steer a running bridge through (the bridge's parts are
 * private), and `BridgeApi.appendRow` the one way plugins write the core's batched tables.
 */
describe('the admin facade', () => {
  const { bridge } = useBridges();

  it('disconnects a live client and reports an unknown one', async () => {
    const t = await bridge({ plugins: [echoPlugin] });
    await t.client();
    expect(t.bridge.admin.isConnected(BOT, DEVICE)).toBe(true);
    expect(t.bridge.admin.disconnect(BOT, 'no-such-device-00')).toBe(false);
    expect(t.bridge.admin.disconnect(BOT, DEVICE)).toBe(true);
    await expectNoClients(t);
    expect(t.bridge.admin.isConnected(BOT, DEVICE)).toBe(false);
    await eventually('disconnect counted', () => t.bridge.admin.counters.get('disconnects', 'BRIDGE_ERR_ADMIN_DISCONNECT') === 1);
  });

  it('changes approvals of known devices and rooms, and registers unknown ones only when asked', async () => {
    const t = await bridge({ autoApprove: false });
    expect(await t.bridge.admin.setDeviceStatus(BOT, 'unknown-device-01', 'approved')).toBe(false);
    expect(await t.bridge.admin.device(BOT, 'unknown-device-01')).toBeUndefined();
    expect(await t.bridge.admin.setDeviceStatus(BOT, 'unknown-device-01', 'approved', { register: true })).toBe(true);
    expect(await t.bridge.admin.device(BOT, 'unknown-device-01')).toMatchObject({ status: 'approved' });
    expect(await t.bridge.admin.setDeviceStatus(BOT, 'unknown-device-01', 'blocked', { reason: 'test' })).toBe(true);
    expect((await t.bridge.admin.listDevices({ botName: BOT })).map((d) => [d.deviceId, d.status])).toEqual([['unknown-device-01', 'blocked']]);

    expect(await t.bridge.admin.setRoomStatus(BOT, '42', 'approved')).toBe(false);
    expect(await t.bridge.admin.setRoomStatus(BOT, '42', 'approved', { register: true })).toBe(true);
    await t.bridge.admin.reloadApprovals();
    expect(t.bridge.admin.roomApproval(BOT, '42')).toMatchObject({ status: 'approved' });
    expect(await t.bridge.admin.room(BOT, '42')).toMatchObject({ status: 'approved' });
  });
});

describe('batched tables', () => {
  const { bridge } = useBridges();

  it('refuses a table the core does not implement with a coded error', async () => {
    let api: BridgeApi | undefined;
    const grabber = definePlugin({ name: 'grabber', setup: (ctx) => void (api = ctx.bridge) });
    await bridge({ plugins: [grabber] });
    expect(() => api!.appendRow('kb_nothing' as never, {} as never)).toThrow(expect.objectContaining({ code: 'BRIDGE_ERR_UNKNOWN_TABLE' }));
  });
});
