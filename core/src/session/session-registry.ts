import type { ClientSession } from './client-session.js';

const key = (botName: string, deviceId: string) => `${botName}\u0000${deviceId}`;

/**
 * Live handshaken sessions, one per (botName, deviceID): a phone switching networks reconnects
 * from a new address and its new connection replaces the old one (PROTOCOL.md §2.4).
 */
export class SessionRegistry {
  private readonly byDevice = new Map<string, ClientSession>();
  private readonly byBot = new Map<string, Set<ClientSession>>();

  /** Registers `session`, returning the session it replaces (the caller closes that one). */
  add(session: ClientSession): ClientSession | undefined {
    const k = key(session.botName, session.deviceId);
    const previous = this.byDevice.get(k);
    if (previous) this.remove(previous);
    this.byDevice.set(k, session);
    let bot = this.byBot.get(session.botName);
    if (!bot) this.byBot.set(session.botName, (bot = new Set()));
    bot.add(session);
    return previous;
  }

  /** Removes `session` if it is still the registered one for its device. */
  remove(session: ClientSession): void {
    const k = key(session.botName, session.deviceId);
    if (this.byDevice.get(k) !== session) return;
    this.byDevice.delete(k);
    const bot = this.byBot.get(session.botName);
    bot?.delete(session);
    if (bot?.size === 0) this.byBot.delete(session.botName);
  }

  get(botName: string, deviceId: string): ClientSession | undefined {
    return this.byDevice.get(key(botName, deviceId));
  }

  /** Sessions of one bot (any device), for replies whose original device went away. */
  ofBot(botName: string): Iterable<ClientSession> {
    return this.byBot.get(botName) ?? [];
  }

  all(): IterableIterator<ClientSession> {
    return this.byDevice.values();
  }

  get size(): number {
    return this.byDevice.size;
  }
}
