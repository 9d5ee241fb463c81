import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BridgeError, isBridgeError } from '../../src/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { parseStoreUrl } from '../../src/store/dialects/registry.js';
import { redactStoreUrl } from '../../src/store/store-url.js';

function thrown(fn: () => unknown): BridgeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BridgeError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('parseStoreUrl', () => {
  it('resolves a relative sqlite path against the working directory', () => {
    expect(parseStoreUrl('sqlite:./data/botbridge.db', '/srv/bridge')).toEqual({ kind: 'sqlite', path: '/srv/bridge/data/botbridge.db' });
    expect(parseStoreUrl('sqlite:data/x.db', '/srv')).toEqual({ kind: 'sqlite', path: '/srv/data/x.db' });
    expect(parseStoreUrl('sqlite:/var/lib/bridge.db', '/srv')).toEqual({ kind: 'sqlite', path: '/var/lib/bridge.db' });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('recognises mysql and mariadb URLs', () => {
    const target = parseStoreUrl('mysql://kakao:s3cr%40t@db.example:3307/kakaobot?ssl=true');
    expect(target).toEqual({
      kind: 'mysql', host: 'db.example', port: 3307, user: 'kakao', password: 's3cr@t', database: 'kakaobot',
      params: { ssl: 'true' }, redacted: 'mysql://kakao:***@db.example:3307/kakaobot?ssl=true',
    });
    expect(parseStoreUrl('mariadb://u@h/db')).toMatchObject({ kind: 'mysql', port: 3306, password: '', database: 'db' });
  });

  it('rejects unknown or incomplete URLs with BRIDGE_ERR_STORE_URL and no password', () => {
    for (const url of ['postgres://u:hunter2@h/db', 'hunter2', 'sqlite:', 'mysql://u:hunter2@h/', 'mysql://u:hunter2@h/a/b']) {
      const error = thrown(() => parseStoreUrl(url));
      expect(error.code).toBe('BRIDGE_ERR_STORE_URL');
      if (url !== 'hunter2') expect(error.message).not.toContain('hunter2');
    }
  });
});

describe('redactStoreUrl', () => {
  it('hides passwords in parseable and unparseable URLs', () => {
    expect(redactStoreUrl('mysql://u:pw@h:1/db')).toBe('mysql://u:***@h:1/db');
    expect(redactStoreUrl('mysql://u:p w%@h/db')).toBe('mysql://u:***@h/db');
    expect(redactStoreUrl('sqlite:./x.db')).toBe('sqlite:./x.db');
  });

  it('hides passwords in mistyped URLs with fewer slashes', () => {
    expect(redactStoreUrl('mysql:/u:pw@h/db')).toBe('mysql:/u:***@h/db');
    expect(redactStoreUrl('mysql:u:pw@h/db')).toBe('mysql:u:***@h/db');
  });
});

describe('openStore', () => {
  /** A loopback port with nothing listening. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('reports an unreachable MySQL server without leaking the password', async () => {
    const port = await closedPort();
    const error = await openStore(`mysql://kakao:hunter2@127.0.0.1:${port}/kakaobot`).then(() => undefined, (e: unknown) => e);
    expect(isBridgeError(error, 'BRIDGE_ERR_STORE_UNAVAILABLE')).toBe(true);
    expect(String((error as Error).message)).toContain(`mysql://kakao:***@127.0.0.1:${port}/kakaobot`);
    expect(String((error as Error).message)).not.toContain('hunter2');
  });

  it('refuses URL parameters it does not know instead of ignoring them', async () => {
    const error = await openStore('mysql://kakao:hunter2@127.0.0.1/kakaobot?sll=true').then(() => undefined, (e: unknown) => e);
    expect(isBridgeError(error, 'BRIDGE_ERR_STORE_URL')).toBe(true);
    expect((error as BridgeError).params).toEqual({ url: 'mysql://kakao:***@127.0.0.1/kakaobot?sll=true', reason: 'unknown parameter sll (only ssl is supported)' });
  });

  it('refuses a time zone it cannot use', async () => {
    const error = await openStore('mysql://kakao@127.0.0.1/kakaobot', { timeZone: 'Asia/Seoul' }).then(() => undefined, (e: unknown) => e);
    expect(isBridgeError(error, 'BRIDGE_ERR_STORE_URL')).toBe(true);
    expect(String((error as Error).message)).toContain('expected server, UTC or ±HH:MM');
  });
});
