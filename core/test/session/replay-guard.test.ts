import { describe, expect, it } from 'vitest';
import { analyzePacketId, ReplayGuard } from '../../src/session/replay-guard.js';

const WINDOW = 1_000;

describe('ReplayGuard', () => {
  it('admits a (signature, packet) once per identity while the block is within the window', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW, maxPerDevice: 10, maxDevices: 10 });
    expect(guard.admit('bot', 'd1', 'sig', 'l:1', 0, 0)).toEqual({ ok: true });
    expect(guard.admit('bot', 'd1', 'sig', 'l:1', 0, 500)).toEqual({ ok: false, reason: 'replayed', seenAgoMs: 500 });
    // The same block for another packet, or the same packet for another identity, is not a replay.
    expect(guard.admit('bot', 'd1', 'sig', 'l:2', 0, 500).ok).toBe(true);
    expect(guard.admit('bot', 'd2', 'sig', 'l:1', 0, 500).ok).toBe(true);
    // Once the block left the window the stale check refuses it; the entry may go.
    expect(guard.admit('bot', 'd1', 'sig', 'l:1', 0, WINDOW + 1).ok).toBe(true);
  });

  it('never evicts a live entry: a full share fails closed until entries expire', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW, maxPerDevice: 3, maxDevices: 10 });
    for (let i = 0; i < 3; i++) expect(guard.admit('bot', 'd1', 'sig', `l:${i}`, 0, 0).ok).toBe(true);
    expect(guard.admit('bot', 'd1', 'sig', 'l:9', 0, 10)).toEqual({ ok: false, reason: 'cache_full' });
    // Another device's share is untouched by the flood.
    expect(guard.admit('bot', 'd2', 'sig', 'l:9', 0, 10).ok).toBe(true);
    // The flooded entries are still refused as replays.
    expect(guard.admit('bot', 'd1', 'sig', 'l:0', 0, 20)).toMatchObject({ ok: false, reason: 'replayed' });
    expect(guard.admit('bot', 'd1', 'sig', 'l:9', 2_000, WINDOW + 1).ok).toBe(true);
    expect(guard.size).toBeLessThanOrEqual(3 + 1);
  });

  it('bounds the identities it tracks', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW, maxPerDevice: 3, maxDevices: 2 });
    expect(guard.admit('bot', 'd1', 's', 'x', 0, 0).ok).toBe(true);
    expect(guard.admit('bot', 'd2', 's', 'x', 0, 0).ok).toBe(true);
    expect(guard.admit('bot', 'd3', 's', 'x', 0, 0)).toEqual({ ok: false, reason: 'cache_full' });
    expect(guard.admit('bot', 'd3', 's', 'x', 5_000, 5_000).ok).toBe(true);
  });

  it('ids a logId-less line by its content, so legacy twins with their random userHash differ', () => {
    const line = { logId: null, room: 'r', sender: 's', text: 't', channelId: null, userHash: 'a', timestamp: null, threadId: null };
    expect(analyzePacketId({ ...line, logId: '42' })).toBe('l::42');
    expect(analyzePacketId({ ...line, logId: '42', channelId: '7' })).not.toBe(analyzePacketId({ ...line, logId: '42', channelId: '8' }));
    expect(analyzePacketId(line)).toBe(analyzePacketId({ ...line }));
    expect(analyzePacketId(line)).not.toBe(analyzePacketId({ ...line, userHash: 'b' }));
  });
});
