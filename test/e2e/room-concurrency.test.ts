import { describe, expect, it } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { openInspector } from '../../core/test/store/test-stores.js';
import { BOT, eventually, sleep, useBridges } from './helpers.js';

/**
 * kb_rooms.room_concurrency drives a room's concurrency limit (the production server ignored
 * it): set by the operator in the table, read by the approval cache, applied by the dispatcher.
 * Runs on whatever store the suite runs on (SQLite, or MariaDB with npm run test:mysql).
 */

const { bridge } = useBridges();

/** Holds every message until the test opens the gate; tracks how many run per room. */
function gatedPlugin() {
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const plugin = definePlugin({
    name: 'gated',
    setup(ctx) {
      ctx.onMessage(async ({ message }) => {
        const room = message.channelId ?? message.room;
        running.set(room, (running.get(room) ?? 0) + 1);
        peak.set(room, Math.max(peak.get(room) ?? 0, running.get(room)!));
        await gate;
        running.set(room, running.get(room)! - 1);
        return `done ${message.text}`;
      });
    },
  });
  return { plugin, running, peak, open };
}

describe('room concurrency from kb_rooms.room_concurrency', () => {
  it('limits each room to its room_concurrency, others to pipeline.concurrency.perRoom', async () => {
    const gated = gatedPlugin();
    const t = await bridge({ plugins: [gated.plugin] });
    for (const room of ['111', '222', '333']) await t.setRoomStatus(BOT, room, 'approved');
    const db = openInspector(t.storeUrl);
    try {
      // As an operator would: straight into the table, then `# reload bots-config`.
      await db.updateTable('kb_rooms').set({ room_concurrency: 1 }).where('room_id', '=', '111').execute();
      await db.updateTable('kb_rooms').set({ room_concurrency: 2 }).where('room_id', '=', '222').execute();
    } finally {
      await db.destroy();
    }
    await t.bridge.admin.reloadApprovals();
    expect(t.bridge.admin.roomApproval(BOT, '111')).toEqual({ status: 'approved', concurrency: 1 });

    const phone = await t.client();
    for (let i = 0; i < 4; i += 1) {
      for (const channelId of ['111', '222', '333']) phone.analyze({ text: `${channelId}-${i}`, channelId, room: `방${channelId}` });
    }
    await eventually('every room at its limit', () =>
      gated.running.get('111') === 1 && gated.running.get('222') === 2 && gated.running.get('333') === 3);
    // Nothing more starts while the first ones hold their slots.
    await sleep(200);
    expect(Object.fromEntries(gated.running)).toEqual({ 111: 1, 222: 2, 333: 3 });
    gated.open();
    const replies = await phone.waitForReplies(12, 10_000);
    expect(replies).toHaveLength(12);
    expect(Object.fromEntries(gated.peak)).toEqual({ 111: 1, 222: 2, 333: 3 });
  });
});
