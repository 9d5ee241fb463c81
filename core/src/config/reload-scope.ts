import { isDeepStrictEqual } from 'node:util';
import type { BridgeSettings } from '@botbridge/sdk';

/**
 * What a hot reload applies. The plugin list and every plugin's config, and the per-bot settings
 * the plugin set's BotSettings is built from: `pipeline.rooms` (room concurrency, ordering),
 * `pipeline.replyGapMs`, `replies.outbox.ttlMs`, and `pluginHost` (the new set's setup and hook
 * deadlines). Everything else is read once when the bridge is built (sockets, store, TLS, caps,
 * the journal, the admin server, logging) and needs a restart: a reload names those settings
 * when they changed and leaves them as they are.
 */
const RELOADABLE: ReadonlySet<string> = new Set(['pipeline.rooms', 'pipeline.replyGapMs', 'replies.outbox.ttlMs', 'pluginHost']);

/**
 * The settings that differ between the running bridge and a reloaded config and that a reload
 * does not apply, as dotted paths two levels deep (`listen.port`, `store.url`). Paths only:
 * values (secrets, tokens) are never reported.
 */
export function restartRequired(running: BridgeSettings, next: BridgeSettings): string[] {
  const changed: string[] = [];
  const sections = new Set([...Object.keys(running), ...Object.keys(next)]);
  for (const section of sections) {
    if (RELOADABLE.has(section)) continue;
    const a = (running as unknown as Record<string, unknown>)[section];
    const b = (next as unknown as Record<string, unknown>)[section];
    if (isDeepStrictEqual(a, b)) continue;
    if (!isRecord(a) || !isRecord(b)) {
      changed.push(section);
      continue;
    }
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const path = `${section}.${key}`;
      if (!RELOADABLE.has(path) && !isDeepStrictEqual(a[key], b[key])) changed.push(path);
    }
  }
  return changed.sort();
}

export function isReloadable(path: string): boolean {
  return RELOADABLE.has(path) || RELOADABLE.has(path.split('.', 1)[0]!);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
