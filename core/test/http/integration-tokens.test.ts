import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeConfigSchema } from '@botbridge/sdk/internal';
import { IntegrationTokens } from '../../src/http/push/integration-tokens.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('integration tokens (http.integrations)', () => {
  it('matches a token to its integration and limits it to its bots and rooms', () => {
    const tokens = IntegrationTokens.resolve([
      { name: 'shop', token: 'shop-token-0123456789abcdef', bots: ['A'], rooms: ['1', 'name:공지방'] },
      { name: 'alerts', token: 'alerts-token-0123456789abcd', bots: ['A', 'B'] },
    ]);
    const shop = tokens.match('shop-token-0123456789abcdef');
    expect(shop?.name).toBe('shop');
    expect(shop?.allows('A', '1')).toBe(true);
    expect(shop?.allows('A', 'name:공지방')).toBe(true);
    expect(shop?.allows('A', '2')).toBe(false);
    expect(shop?.allows('B', '1')).toBe(false);
    const alerts = tokens.match('alerts-token-0123456789abcd');
    expect(alerts?.allows('B', '999')).toBe(true);
    expect(tokens.match('shop-token-0123456789abcdeX')).toBeNull();
    expect(tokens.match('')).toBeNull();
  });

  it('reads tokenFile (trimmed) and refuses a missing or short one, or the admin token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'botbridge-tokens-'));
    dirs.push(dir);
    const file = join(dir, 'shop.token');
    await writeFile(file, 'file-token-0123456789abcdef\n');
    const tokens = IntegrationTokens.resolve([{ name: 'shop', tokenFile: file, bots: ['A'] }]);
    expect(tokens.match('file-token-0123456789abcdef')?.name).toBe('shop');

    await writeFile(file, 'short\n');
    expect(() => IntegrationTokens.resolve([{ name: 'shop', tokenFile: file, bots: ['A'] }])).toThrow(/at least 16 bytes/);
    expect(() => IntegrationTokens.resolve([{ name: 'shop', tokenFile: join(dir, 'missing'), bots: ['A'] }])).toThrow(/cannot be read/);
    expect(() => IntegrationTokens.resolve([{ name: 'x', token: 'same-as-admin-0123456789', bots: ['A'] }], (t) => t === 'same-as-admin-0123456789')).toThrow(/admin token/);
  });

  it('validates the config: short inline token, both or neither of token and tokenFile, duplicate names, no bots', () => {
    const parse = (integrations: unknown) => bridgeConfigSchema.safeParse({ http: { integrations } }).success;
    expect(parse([{ name: 'a', token: 'long-enough-token-0123', bots: ['A'] }])).toBe(true);
    expect(parse([{ name: 'a', token: 'short', bots: ['A'] }])).toBe(false);
    expect(parse([{ name: 'a', bots: ['A'] }])).toBe(false);
    expect(parse([{ name: 'a', token: 'long-enough-token-0123', tokenFile: '/x', bots: ['A'] }])).toBe(false);
    expect(parse([{ name: 'a', token: 'long-enough-token-0123', bots: [] }])).toBe(false);
    expect(parse([{ name: 'a', token: 'long-enough-token-0123', bots: ['A'] }, { name: 'a', token: 'long-enough-token-4567', bots: ['A'] }])).toBe(false);
  });
});
