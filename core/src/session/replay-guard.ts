import { hash } from 'node:crypto';

export interface ReplayGuardOptions {
  /** auth.timestampWindowMs: a block is accepted while its timestamp is this close to server time. */
  readonly windowMs: number;
  /** auth.replayCachePerDevice: remembered packets per (botName, deviceID); beyond it new ones fail closed. */
  readonly maxPerDevice: number;
  /** auth.replayCacheDevices: identities remembered at once; beyond it, packets of new identities fail closed. */
  readonly maxDevices: number;
}

export type ReplayVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: 'replayed' | 'cache_full'; readonly seenAgoMs?: number };

interface Seen {
  readonly at: number;
  readonly expiresAt: number;
}

/**
 * Issue 13, finding 3: an auth block is accepted once per connection identity and packet within
 * its timestamp window. The signature covers no content (PROTOCOL.md §4), and the deployed v3.2
 * scripts reuse one block for every packet they send within the same second, so "once" is per
 * (signature, packet id): the chat line's `logId`, a hash of the chat line's fields when it has
 * none (the legacy twin), the echoed ping timestamp for a ping answer. A byte-identical replay of
 * a captured line is refused whether or not it has a logId; a real script never sends one.
 *
 * An entry lives until the block's timestamp leaves the window (after that the stale check
 * refuses the block anyway), so nothing the window still needs is ever evicted: when a device's
 * share is full of live entries its new packets fail closed (counted) instead. Only packets whose
 * signature verified are recorded, so only a holder of the key (or of a block captured within
 * the window) can fill a share, and only its own.
 */
export class ReplayGuard {
  private readonly devices = new Map<string, Map<string, Seen>>();

  constructor(private readonly options: ReplayGuardOptions) {}

  /** Records the packet if unseen. `blockTimestampMs` is the auth block's `timestamp`. */
  admit(botName: string, deviceId: string, signature: string, packetId: string, blockTimestampMs: number, nowMs: number): ReplayVerdict {
    const identity = `${botName}\u0000${deviceId}`;
    let seen = this.devices.get(identity);
    if (seen === undefined) {
      if (this.devices.size >= this.options.maxDevices) this.sweep(nowMs);
      if (this.devices.size >= this.options.maxDevices) return { ok: false, reason: 'cache_full' };
      seen = new Map();
      this.devices.set(identity, seen);
    }
    const key = digest(signature, packetId);
    const previous = seen.get(key);
    if (previous !== undefined && previous.expiresAt > nowMs) return { ok: false, reason: 'replayed', seenAgoMs: nowMs - previous.at };
    if (seen.size >= this.options.maxPerDevice) prune(seen, nowMs);
    if (seen.size >= this.options.maxPerDevice) return { ok: false, reason: 'cache_full' };
    seen.set(key, { at: nowMs, expiresAt: blockTimestampMs + this.options.windowMs + 1 });
    return { ok: true };
  }

  /** Packets remembered (for stats and tests). */
  get size(): number {
    let total = 0;
    for (const seen of this.devices.values()) total += seen.size;
    return total;
  }

  /** Drops expired entries and empty identities; called when the identity table is full. */
  sweep(nowMs: number): void {
    for (const [identity, seen] of this.devices) {
      prune(seen, nowMs);
      if (seen.size === 0) this.devices.delete(identity);
    }
  }
}

/** Entries are in insertion order, which is close to expiry order; a late expiry only delays the ones behind it. */
function prune(seen: Map<string, Seen>, nowMs: number): void {
  for (const [key, entry] of seen) {
    if (entry.expiresAt > nowMs) return;
    seen.delete(key);
  }
}

/**
 * 16 bytes of SHA-256: a short key keeps a full share in a few MB. One-shot `hash` over the joined
 * string gives the same digest as incremental updates at a fraction of a Hash object's cost.
 */
function digest(signature: string, packetId: string): string {
  return hash('sha256', signature + '\u0000' + packetId, 'base64').slice(0, 22);
}

/**
 * The id of an analyze packet for replay purposes: its logId, or for a logId-less line a hash of
 * the fields that make it (the legacy twin carries a random userHash, so two twins of equal text
 * still differ).
 */
export function analyzePacketId(packet: {
  readonly logId: string | null;
  readonly room: string;
  readonly sender: string;
  readonly text: string;
  readonly channelId: string | null;
  readonly userHash: string | null;
  readonly timestamp: string | null;
  readonly threadId: string | null;
}): string {
  // Dedup scopes a logId by channel (PROTOCOL.md §7): the same logId in another room is another message.
  if (packet.logId !== null) return `l:${packet.channelId ?? ''}:${packet.logId}`;
  const fields = [packet.room, packet.sender, packet.text, packet.channelId ?? '', packet.userHash ?? '', packet.timestamp ?? '', packet.threadId ?? ''];
  return `h:${hash('sha256', fields.join('\u0000'), 'base64')}`;
}
