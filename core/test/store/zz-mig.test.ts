import { it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
it('x', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'm-'));
  const url = `sqlite:${join(dir, 'a.db')}`;
  const r = await Promise.allSettled([openStore(url), openStore(url), openStore(url)]);
  console.log(r.map(x => x.status === 'rejected' ? String(x.reason) + ' ' + String(x.reason.cause?.code) : 'ok'));
});
