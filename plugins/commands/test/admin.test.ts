import { describe, expect, it } from 'vitest';
import { isAdmin, type AdminTable } from '../src/admin.js';

const admins: AdminTable = {
  'LOA.i': [
    { userHash: 'admin1', channelId: '*' },
    { userHash: 'roomadmin', channelId: '111' },
  ],
};

describe('isAdmin', () => {
  it('accepts an admin of the bot in any room when channelId is *', () => {
    expect(isAdmin(admins, { botName: 'LOA.i', userHash: 'admin1', channelId: '999' })).toBe(true);
    expect(isAdmin(admins, { botName: 'LOA.i', userHash: 'admin1', channelId: null })).toBe(true);
  });

  it('limits a room admin to that room', () => {
    expect(isAdmin(admins, { botName: 'LOA.i', userHash: 'roomadmin', channelId: '111' })).toBe(true);
    expect(isAdmin(admins, { botName: 'LOA.i', userHash: 'roomadmin', channelId: '222' })).toBe(false);
    expect(isAdmin(admins, { botName: 'LOA.i', userHash: 'roomadmin', channelId: null })).toBe(false);
  });

  it('refuses other users, other bots and messages without a userHash', () => {
    expect(isAdmin(admins, { botName: 'LOA.i', userHash: 'someone', channelId: '111' })).toBe(false);
    expect(isAdmin(admins, { botName: 'kkobot', userHash: 'admin1', channelId: '111' })).toBe(false);
    expect(isAdmin(admins, { botName: 'LOA.i', userHash: null, channelId: '111' })).toBe(false);
    expect(isAdmin(admins, { botName: 'LOA.i', userHash: '', channelId: '111' })).toBe(false);
  });

  it('does not treat prototype keys as bots', () => {
    expect(isAdmin(admins, { botName: 'constructor', userHash: 'admin1', channelId: '1' })).toBe(false);
    expect(isAdmin(admins, { botName: '__proto__', userHash: 'admin1', channelId: '1' })).toBe(false);
  });
});
