import { describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { approveCommand, PendingNotices, shellWord } from '../../core/src/approval/pending-notices.js';
import { BOT, DEVICE, useBridges } from './helpers.js';

/** What an operator sees when the bot is silent because something waits for approval. */

const { bridge } = useBridges();
const echo = definePlugin({ name: 'echo', setup: (ctx) => void ctx.onMessage((m) => `에코: ${m.message.text}`) });
const ROOM_NOTICE = 'message in a pending room not answered; approve the room to answer it';

describe('pending approval hints', () => {
  it('says how to approve a pending device, and a pending room once however many messages it sends', async () => {
    const t = await bridge({ plugins: [echo], autoApprove: false, captureLogs: true });
    const pending = await t.client();
    const connected = await t.waitForLog((line) => line.msg === 'client connected' && line.deviceId === DEVICE);
    expect(connected).toMatchObject({ approval: 'pending', approve: `npx botbridge devices approve ${BOT} ${DEVICE}` });
    // A pending device's messages are not about the room: no room hint.
    await pending.shouldNotReply({ text: 'a', room: '새 방', channelId: '4242' });
    expect(t.logs.filter((line) => line.msg === ROOM_NOTICE)).toEqual([]);
    await pending.close();

    expect(await t.bridge.admin.setDeviceStatus(BOT, DEVICE, 'approved')).toBe(true);
    await t.bridge.admin.reloadApprovals();
    const phone = await t.client();
    for (const text of ['하나', '둘', '셋']) await phone.shouldNotReply({ text, room: '새 방', channelId: '4242' });
    await phone.shouldNotReply({ text: 'x', room: "it's new", channelId: null });
    const notices = t.logs.filter((line) => line.msg === ROOM_NOTICE);
    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatchObject({ category: 'message', botName: BOT, roomId: '4242', room: '새 방', approve: `npx botbridge rooms approve ${BOT} 4242` });
    expect(notices[1]).toMatchObject({ roomId: "name:it's new", approve: `npx botbridge rooms approve ${BOT} 'name:it'\\''s new'` });

    // The command it prints is the one that works: after it, the room is answered.
    expect(await t.bridge.admin.setRoomStatus(BOT, '4242', 'approved')).toBe(true);
    await t.bridge.admin.reloadApprovals();
    await phone.shouldReply({ text: '넷', room: '새 방', channelId: '4242' }, '에코: 넷');
  });

  it('rate-limits per subject and quotes shell words', () => {
    let now = 0;
    const notices = new PendingNotices(1_000, () => now);
    expect([notices.due('a'), notices.due('a'), notices.due('b')]).toEqual([true, false, true]);
    now = 999;
    expect(notices.due('a')).toBe(false);
    now = 1_000;
    expect(notices.due('a')).toBe(true);
    expect(shellWord('LOA.i')).toBe('LOA.i');
    expect(shellWord('name:테스트 방')).toBe("'name:테스트 방'");
    expect(approveCommand('devices', 'LOA.i', 'a1b2')).toBe('npx botbridge devices approve LOA.i a1b2');
  });
});
