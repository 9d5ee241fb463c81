export type BanKind = 'device' | 'address';

export interface BanOptions {
  readonly enabled: boolean;
  /** Strikes of one device within windowMs that ban it (bans.deviceThreshold). */
  readonly deviceThreshold: number;
  /** Failures from one address within windowMs that ban it (bans.addressThreshold). */
  readonly addressThreshold: number;
  readonly windowMs: number;
  readonly durationMs: number;
  /** Subjects tracked at once, strikes and bans each (LRU beyond it). */
  readonly maxEntries: number;
}

export interface BanEntry {
  readonly kind: BanKind;
  /** `botName/deviceId` for a device, the remote address for an address. */
  readonly subject: string;
  readonly since: number;
  readonly until: number;
  /** What the last strike was (auth, connect, handshake, rejected_lines). */
  readonly reason: string;
}

/**
 * Temporary bans on the bot port (issue 13, finding 5; EMQX's flapping defaults: 15 in a minute
 * → 5 minutes). A device earns strikes for failed authentication, for rejected-line closes and
 * for every connect (reconnect flapping); an address earns them only for failures, never for
 * connects, since a restart makes every phone behind one NAT reconnect at once.
 *
 * Devices are banned first: an address ban never refuses a device that is approved, and it
 * refuses at accept (before a byte is read) only addresses from which no approved device has
 * connected within the ban duration, so approved phones behind a shared NAT address are not
 * collateral damage. Memory is bounded: each map is an LRU of at most maxEntries subjects, and
 * a subject keeps at most `threshold` strike times.
 */
export class BanList {
  private readonly strikes = new Map<string, number[]>();
  private readonly bans = new Map<string, BanEntry>();
  /** Addresses an approved device handshook from, with when. */
  private readonly trusted = new Map<string, number>();

  constructor(private readonly options: BanOptions) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** The live ban of a subject, if any (an expired one is dropped). */
  banned(kind: BanKind, subject: string, nowMs: number): BanEntry | undefined {
    const key = `${kind}:${subject}`;
    const ban = this.bans.get(key);
    if (ban === undefined) return undefined;
    if (ban.until > nowMs) return ban;
    this.bans.delete(key);
    return undefined;
  }

  /** An address ban that refuses at accept: banned, and no approved device connected from it lately. */
  refusesAtAccept(address: string, nowMs: number): BanEntry | undefined {
    if (!this.options.enabled) return undefined;
    const ban = this.banned('address', address, nowMs);
    if (ban === undefined) return undefined;
    const trustedAt = this.trusted.get(address);
    return trustedAt !== undefined && nowMs - trustedAt < this.options.durationMs ? undefined : ban;
  }

  /** An approved device handshook from this address. */
  trust(address: string, nowMs: number): void {
    touch(this.trusted, address, nowMs, this.options.maxEntries);
  }

  /** Records a strike; returns the ban it caused, if it crossed the threshold now. */
  strike(kind: BanKind, subject: string, reason: string, nowMs: number): BanEntry | undefined {
    if (!this.options.enabled || subject === '') return undefined;
    const { windowMs, maxEntries } = this.options;
    const threshold = kind === 'device' ? this.options.deviceThreshold : this.options.addressThreshold;
    const key = `${kind}:${subject}`;
    const times = (this.strikes.get(key) ?? []).filter((t) => t > nowMs - windowMs);
    times.push(nowMs);
    if (times.length > threshold) times.splice(0, times.length - threshold);
    touch(this.strikes, key, times, maxEntries);
    if (times.length < threshold || this.banned(kind, subject, nowMs) !== undefined) return undefined;
    const ban: BanEntry = { kind, subject, since: nowMs, until: nowMs + this.options.durationMs, reason };
    touch(this.bans, key, ban, maxEntries);
    this.strikes.delete(key);
    return ban;
  }

  list(nowMs: number): BanEntry[] {
    const live: BanEntry[] = [];
    for (const [key, ban] of this.bans) {
      if (ban.until > nowMs) live.push(ban);
      else this.bans.delete(key);
    }
    return live;
  }

  /** Lifts a ban and forgets the subject's strikes; false when there was none. */
  lift(kind: BanKind, subject: string): boolean {
    const key = `${kind}:${subject}`;
    this.strikes.delete(key);
    return this.bans.delete(key);
  }
}

/** Map insertion order is the LRU order: re-inserting moves a key to the back, the front goes first. */
function touch<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}
