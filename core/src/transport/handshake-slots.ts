import type { Socket } from 'node:net';

export interface HandshakeSlotsOptions {
  /** Connections in handshake at once (limits.maxHandshakingConnections). */
  readonly maxHandshaking: number;
  /** Handshake slots one remote address may hold (limits.maxHandshakingPerAddress). */
  readonly maxPerAddress: number;
  /** Sockets waiting for a slot (limits.maxWaitingConnections); 0 refuses at once. */
  readonly maxWaiting: number;
  /** How long a socket waits before it is refused (limits.handshakeSlotWaitMs). */
  readonly maxWaitMs: number;
  /** A waiter got its slot (already counted as holding it). */
  readonly admit: (socket: Socket, address: string) => void;
  /** A waiter's wait expired; it no longer counts anywhere. */
  readonly expire: (socket: Socket) => void;
}

interface Waiter {
  readonly socket: Socket;
  readonly address: string;
  readonly timer: NodeJS.Timeout;
  readonly onClose: () => void;
}

export type SlotOutcome = 'slot' | 'waiting' | 'refused-address' | 'refused-full';

/**
 * Handshake slots and the line of sockets waiting for one. After a restart every phone
 * reconnects within the same second; refusing what exceeds the slots would send them into the
 * script's 4 s retry, so they wait (bounded in count and time, FIFO). One address holds at most
 * `maxPerAddress` slots and half of the waiting places, so idle sockets from a single address can
 * neither lock every phone out of the handshake nor take the whole line.
 */
export class HandshakeSlots {
  private readonly options: HandshakeSlotsOptions;
  private readonly maxWaitingPerAddress: number;
  private readonly slotsByAddress = new Map<string, number>();
  private readonly waitingByAddress = new Map<string, number>();
  /** Insertion order is arrival order. */
  private readonly waiters = new Set<Waiter>();
  private held = 0;

  constructor(options: HandshakeSlotsOptions) {
    this.options = options;
    this.maxWaitingPerAddress = Math.max(1, Math.floor(options.maxWaiting / 2));
  }

  get handshaking(): number {
    return this.held;
  }

  get waiting(): number {
    return this.waiters.size;
  }

  /** Takes a slot for a new socket, or puts it in line, or says why it must be refused. */
  request(socket: Socket, address: string): SlotOutcome {
    if (this.canHold(address)) {
      this.take(address);
      return 'slot';
    }
    const { maxWaiting, maxWaitMs } = this.options;
    if (this.waiters.size >= maxWaiting) return 'refused-full';
    if ((this.waitingByAddress.get(address) ?? 0) >= this.maxWaitingPerAddress) return 'refused-address';
    const waiter: Waiter = {
      socket,
      address,
      timer: setTimeout(() => {
        this.leave(waiter);
        this.options.expire(socket);
      }, maxWaitMs),
      // A reset seen while waiting frees the place. (A FIN is seen only once it holds a slot and is
      // read: then it closes at once and the slot passes on.)
      onClose: () => this.leave(waiter),
    };
    // Errors of a socket nobody reads yet carry no information; unhandled they would crash.
    socket.on('error', noop);
    socket.once('close', waiter.onClose);
    this.waiters.add(waiter);
    bump(this.waitingByAddress, address, 1);
    return 'waiting';
  }

  /** A slot holder finished its handshake or closed: its slot goes to the first waiter that may hold it. */
  release(address: string): void {
    this.held -= 1;
    bump(this.slotsByAddress, address, -1);
    for (const waiter of this.waiters) {
      if (this.held >= this.options.maxHandshaking) return;
      if (!this.canHold(waiter.address)) continue;
      this.leave(waiter);
      this.take(waiter.address);
      this.options.admit(waiter.socket, waiter.address);
    }
  }

  /** Refuses every waiter (shutdown); returns their sockets for the caller to destroy. */
  drain(): Socket[] {
    const sockets = [...this.waiters].map((w) => w.socket);
    for (const waiter of [...this.waiters]) this.leave(waiter);
    return sockets;
  }

  private canHold(address: string): boolean {
    return this.held < this.options.maxHandshaking && (this.slotsByAddress.get(address) ?? 0) < this.options.maxPerAddress;
  }

  private take(address: string): void {
    this.held += 1;
    bump(this.slotsByAddress, address, 1);
  }

  private leave(waiter: Waiter): void {
    if (!this.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    waiter.socket.off('close', waiter.onClose);
    waiter.socket.off('error', noop);
    bump(this.waitingByAddress, waiter.address, -1);
  }
}

function noop(): void {}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}
