import type { KV, KvEntry } from '@nats-io/kv';
import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import { parsePresenceKey, presenceKey } from './cluster-keys.js';
import { KvMirror } from './kv-mirror.js';

/** The presence value of one (bot, device): the node holding its connection, and that node's epoch. */
export interface PresenceValue {
  readonly node: string;
  readonly epoch: number;
  readonly at: number;
}

export interface Holder {
  readonly deviceId: string;
  readonly node: string;
  readonly epoch: number;
}

/** Compare-and-set retries of one presence write (each conflict means another node just wrote). */
const MAX_CAS_ATTEMPTS = 50;

/** A device held here: the revision of our presence write (null while it is being written). */
type Claim = { revision: number | null; foreign: number; failed: boolean };

/**
 * The fleet-wide map (bot, device) → holder node, in one KV bucket without TTL: a key is written
 * only on connect, disconnect and takeover (never refreshed, so the write rate is the connect
 * rate); whether its holder is alive is the holder's lease (ClusterNode.isNodeAlive).
 *
 * Every write is compare-and-set (`create`, `update(revision)`, `delete(previousSeq)`), never
 * get-then-put. The last successful write names the holder: a handshake on this node for a device
 * held elsewhere overwrites the entry (takeover), and the previous holder, watching the bucket,
 * sees a newer revision naming another node and closes its connection (`onLost`). Simultaneous
 * handshakes on several nodes all retry on conflict; whichever writes last holds the device and
 * every other node sees a revision newer than its own and lets go.
 */
export class Presence {
  private readonly mirror: KvMirror<PresenceValue>;
  private readonly byBot = new Map<string, Map<string, Holder>>();
  private readonly claims = new Map<string, Claim>();
  /** Presence writes of one key run one after another (a connect and a disconnect in a burst). */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Called when another node took over a device this node holds: close its connection here. */
  onLost: (botName: string, deviceId: string, byNode: string) => void = () => {};
  /** Called when another node names itself holder of a device (a phone connected there). */
  onRemoteHolder: (botName: string, deviceId: string, node: string) => void = () => {};
  takeovers = 0;

  constructor(
    private readonly deps: {
      readonly kv: KV;
      readonly nodeId: string;
      readonly epoch: number;
      readonly isNodeAlive: (nodeId: string) => boolean;
      /** Whether NATS is connected now (a claim made while it is not waits for republish()). */
      readonly connected: () => boolean;
      readonly log: CoreLogger;
    },
  ) {
    this.mirror = new KvMirror<PresenceValue>(deps.kv, decodePresence, (key, value, revision) => this.changed(key, value, revision));
  }

  start(timeoutMs: number): Promise<void> {
    return this.mirror.start(timeoutMs);
  }

  stop(): void {
    this.mirror.stop();
  }

  private changed(key: string, value: PresenceValue | null, revision: number): void {
    const ids = parsePresenceKey(key);
    if (!ids) return;
    let bot = this.byBot.get(ids.botName);
    if (value === null) {
      bot?.delete(ids.deviceId);
      if (bot?.size === 0) this.byBot.delete(ids.botName);
    } else {
      if (!bot) this.byBot.set(ids.botName, (bot = new Map()));
      bot.set(ids.deviceId, { deviceId: ids.deviceId, node: value.node, epoch: value.epoch });
    }
    if (value === null) {
      // Our live device's entry was deleted by another node (it judged this node dead: a pause
      // longer than the lease TTL). The phone is still here: name this node again.
      const claim = this.claims.get(key);
      if (claim && claim.revision !== null && revision > claim.revision) {
        claim.revision = null;
        void this.chain(key, () => this.write(key, claim, ids.botName, ids.deviceId, true)).catch((error: unknown) => {
          this.deps.log.warn({ err: reasonOf(error), ...ids }, 'cluster: presence not restored');
        });
      }
      return;
    }
    if (value.node === this.deps.nodeId) return;
    this.onRemoteHolder(ids.botName, ids.deviceId, value.node);
    const claim = this.claims.get(key);
    if (!claim) return;
    if (claim.revision === null) claim.foreign = Math.max(claim.foreign, revision);
    else if (revision > claim.revision) this.lose(key, ids.botName, ids.deviceId, value.node);
  }

  private lose(key: string, botName: string, deviceId: string, byNode: string): void {
    this.claims.delete(key);
    this.deps.log.info({ botName, deviceId, byNode }, 'cluster: device taken over by another node; closing its connection here');
    this.onLost(botName, deviceId, byNode);
  }

  /**
   * Names this node as the holder of (bot, device). Resolves with the node it took the device
   * over from (null when nobody held it, or this node did). Rejects when NATS does not answer;
   * the connection is served anyway (this node's phones never wait for NATS).
   */
  claim(botName: string, deviceId: string): Promise<{ tookOverFrom: string | null }> {
    const key = presenceKey(botName, deviceId);
    const claim: Claim = { revision: null, foreign: 0, failed: false };
    this.claims.set(key, claim);
    return this.chain(key, () => this.write(key, claim, botName, deviceId));
  }

  /** The compare-and-set write of a claim: read, then create or update at that revision; retried on conflict. */
  private async write(key: string, claim: Claim, botName: string, deviceId: string, onlyIfAbsent = false): Promise<{ tookOverFrom: string | null }> {
    // NATS away: nothing to wait for; the claim is written by republish() when NATS is back.
    if (!this.deps.connected()) {
      claim.failed = true;
      throw new Error('NATS is disconnected; presence is written when it is back');
    }
    const value = JSON.stringify({ node: this.deps.nodeId, epoch: this.deps.epoch, at: Date.now() } satisfies PresenceValue);
    for (let attempt = 0; ; attempt += 1) {
      let previous: PresenceValue | null = null;
      let revision: number;
      try {
        const current = await this.deps.kv.get(key);
        if (current === null || current.operation !== 'PUT') {
          revision = await this.deps.kv.create(key, value);
        } else if (onlyIfAbsent && decodePresence(current)?.node !== this.deps.nodeId) {
          // Restoring an entry another node deleted, but the phone connected elsewhere since:
          // that node holds it now and this connection is the stale one.
          if (this.claims.get(key) === claim) this.lose(key, botName, deviceId, decodePresence(current)?.node ?? 'unknown');
          return { tookOverFrom: null };
        } else {
          previous = decodePresence(current);
          revision = await this.deps.kv.update(key, value, current.revision);
        }
      } catch (error) {
        // Another node wrote between our read and our write: read again and overwrite (the
        // latest handshake wins), a bounded number of times, after a short random pause so
        // that contending nodes do not collide in lockstep.
        if (attempt < MAX_CAS_ATTEMPTS && isConflict(error)) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          continue;
        }
        claim.failed = true;
        throw error;
      }
      claim.failed = false;
      if (this.claims.get(key) !== claim) {
        // Released while being written: remove what we just wrote (unless someone wrote since).
        await this.deps.kv.delete(key, { previousSeq: revision }).catch(() => undefined);
        return { tookOverFrom: null };
      }
      claim.revision = revision;
      if (claim.foreign > revision) {
        const holder = this.byBot.get(botName)?.get(deviceId);
        this.lose(key, botName, deviceId, holder?.node ?? 'unknown');
        return { tookOverFrom: null };
      }
      const from = previous && previous.node !== this.deps.nodeId ? previous.node : null;
      if (from !== null) this.takeovers += 1;
      return { tookOverFrom: from };
    }
  }

  /** This node no longer holds (bot, device): deletes its entry unless another node wrote since. */
  release(botName: string, deviceId: string): Promise<void> {
    const key = presenceKey(botName, deviceId);
    const claim = this.claims.get(key);
    if (!claim) return Promise.resolve();
    this.claims.delete(key);
    return this.chain(key, async () => {
      if (claim.revision === null) return;
      try {
        await this.deps.kv.delete(key, { previousSeq: claim.revision });
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    });
  }

  /**
   * After NATS came back: names this node again for every device it holds, including devices
   * that connected while NATS was away (their claims could not be written). Compare-and-set: a
   * takeover made meanwhile wins (the watch then closes our connection).
   */
  async republish(): Promise<void> {
    for (const [key, claim] of [...this.claims]) {
      const ids = parsePresenceKey(key);
      if (!ids) continue;
      await this.chain(key, async () => {
        if (this.claims.get(key) !== claim) return;
        if (claim.revision === null) {
          await this.write(key, claim, ids.botName, ids.deviceId);
          return;
        }
        try {
          claim.revision = await this.deps.kv.update(key, JSON.stringify({ node: this.deps.nodeId, epoch: this.deps.epoch, at: Date.now() }), claim.revision);
        } catch (error) {
          if (!isConflict(error)) throw error;
          // Someone wrote meanwhile: a newer holder (the watch closes ours), or the key was
          // deleted (a node judged this one dead): then this node names itself again.
          const current = await this.deps.kv.get(key);
          if (current === null || current.operation !== 'PUT') claim.revision = await this.deps.kv.create(key, JSON.stringify({ node: this.deps.nodeId, epoch: this.deps.epoch, at: Date.now() }));
        }
      }).catch((error: unknown) => this.deps.log.warn({ err: reasonOf(error), ...ids }, 'cluster: presence not re-published'));
    }
  }

  /**
   * A node's run died: its entries no longer route anything (the failover part takes its work
   * over). Entries of a later run under the same id (a restart) are kept.
   */
  nodeGone(nodeId: string, epoch: number = Number.MAX_SAFE_INTEGER): void {
    for (const [botName, devices] of this.byBot) {
      for (const [deviceId, holder] of devices) {
        if (holder.node !== nodeId || holder.epoch > epoch) continue;
        devices.delete(deviceId);
        const key = presenceKey(botName, deviceId);
        const entry = this.mirror.get(key);
        this.mirror.forget(key);
        // Every node tries; CAS lets one delete win, and a new holder's write is never removed.
        if (entry) void this.deps.kv.delete(key, { previousSeq: entry.revision }).catch(() => undefined);
      }
      if (devices.size === 0) this.byBot.delete(botName);
    }
  }

  /** The node holding (bot, device), if it is alive. */
  holderOf(botName: string, deviceId: string): string | null {
    const holder = this.byBot.get(botName)?.get(deviceId);
    return holder && this.deps.isNodeAlive(holder.node) ? holder.node : null;
  }

  /** The last holder named for (bot, device), alive or not (a handshake asks whether its previous holder died). */
  entryOf(botName: string, deviceId: string): Holder | undefined {
    return this.byBot.get(botName)?.get(deviceId);
  }

  /** Live devices of a bot held by other live nodes, the preferred device first. */
  remoteHolders(botName: string, preferredDevice: string | null): Holder[] {
    const devices = this.byBot.get(botName);
    if (!devices) return [];
    const out: Holder[] = [];
    for (const holder of devices.values()) {
      if (holder.node === this.deps.nodeId || !this.deps.isNodeAlive(holder.node)) continue;
      if (holder.deviceId === preferredDevice) out.unshift(holder);
      else out.push(holder);
    }
    return out;
  }

  /** Every (bot, device) → node entry of live holders (fleet views). */
  entries(): { botName: string; deviceId: string; node: string }[] {
    const out: { botName: string; deviceId: string; node: string }[] = [];
    for (const [botName, devices] of this.byBot) for (const h of devices.values()) if (this.deps.isNodeAlive(h.node)) out.push({ botName, deviceId: h.deviceId, node: h.node });
    return out;
  }

  private chain<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.chains.set(key, next);
    void next.catch(() => undefined).then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }
}

function decodePresence(entry: KvEntry): PresenceValue | null {
  try {
    return entry.json<PresenceValue>();
  } catch {
    return null;
  }
}

/** A CAS write refused because the key changed (JetStream "wrong last sequence", code 10071). */
function isConflict(error: unknown): boolean {
  const text = reasonOf(error);
  return /wrong last sequence|10071|key exists/i.test(text) || (error as { api_error?: { err_code?: number } })?.api_error?.err_code === 10071;
}
