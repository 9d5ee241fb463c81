import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import { isReloadable, restartRequired } from '../../src/config/reload-scope.js';

describe('reload scope', () => {
  const base = resolveConfig({ listen: { port: 1485 }, http: { adminToken: 'old-token-0123456789abcdef' } }).settings;

  it('names changed restart-only settings by path, never by value', () => {
    const next = resolveConfig({
      listen: { port: 1490 },
      http: { adminToken: 'new-token-0123456789abcdef' },
      store: { url: 'sqlite:./elsewhere.db' },
      pipeline: { replyGapMs: 5, rooms: { 'bot/1': { concurrency: 2 } }, processingTimeoutMs: 1_000 },
      replies: { outbox: { ttlMs: 1_000 } },
      pluginHost: { setupTimeoutMs: 1_000 },
    }).settings;
    const changed = restartRequired(base, next);
    expect(changed).toEqual(['http.adminToken', 'listen.port', 'pipeline.processingTimeoutMs', 'store.url']);
    expect(changed.join(' ')).not.toContain('new-token');
  });

  it('reports nothing for an identical config, and knows what a reload applies', () => {
    expect(restartRequired(base, resolveConfig({ listen: { port: 1485 }, http: { adminToken: 'old-token-0123456789abcdef' } }).settings)).toEqual([]);
    expect(['pipeline.rooms', 'pipeline.replyGapMs', 'replies.outbox.ttlMs', 'pluginHost.hookTimeoutMs'].every(isReloadable)).toBe(true);
    expect(['listen.port', 'store.url', 'replies.maxTextLength', 'pipeline.concurrency'].some(isReloadable)).toBe(false);
  });
});
