import { isDeepStrictEqual } from 'node:util';
import type { BridgeSettings } from '@botbridge/sdk';

/**
 * What a hot reload applies. The plugin list and every plugin's config, and the per-bot settings
 * the plugin set's BotSettings is built from: `pipeline.rooms` (room concurrency, ordering),
 * `pipeline.replyGapMs`, `replies.outbox.ttlMs`, and `pluginHost` (the new set's setup and hook
 * deadlines), and the signing secrets (`auth.secretKey`, `auth.salt`, `auth.secrets`,
 * `auth.bots`: a fleet's key rotates without a restart). Everything else is read once when the bridge is built (sockets, store, TLS, caps,
 * the journal, the admin server, logging) and needs a restart: a reload names those settings
 * when they changed and leaves them as they are.
 */
const RELOADABLE: ReadonlySet<string> = new Set([
  'pipeline.rooms',
  'pipeline.replyGapMs',
  'replies.outbox.ttlMs',
  'pluginHost',
  // The signing secrets (issue 13: rotated without a restart); the other auth.* limits need one.
  'auth.secretKey',
  'auth.salt',
  'auth.secrets',
  'auth.bots',
]);

/**
 * The settings that differ between the running bridge and a reloaded config and that a reload
 * does not apply, as dotted paths two levels deep (`listen.port`, `store.url`). Paths only:
 * values (secrets, tokens) are never reported.
 */
export function restartRequired(running: BridgeSettings, next: BridgeSettings): string[] {
  const changed: string[] = [];
  diff(running, next, '', 0, changed);
  return changed.sort();
}

/** Two levels deep, deeper only where a reloadable path lies below (`replies.outbox.ttlMs`). */
function diff(a: unknown, b: unknown, path: string, depth: number, changed: string[]): void {
  if (path !== '' && RELOADABLE.has(path)) return;
  if (isDeepStrictEqual(a, b)) return;
  const deeper = depth < 2 || [...RELOADABLE].some((reloadable) => reloadable.startsWith(`${path}.`));
  if (!isRecord(a) || !isRecord(b) || !deeper) {
    changed.push(path);
    return;
  }
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[key], b[key], path === '' ? key : `${path}.${key}`, depth + 1, changed);
}

export function isReloadable(path: string): boolean {
  return RELOADABLE.has(path) || RELOADABLE.has(path.split('.', 1)[0]!);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
