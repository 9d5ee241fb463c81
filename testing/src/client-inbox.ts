import { readV33Reply, splitV33Line } from './wire-v33.js';
import type { HandshakeCompleteData, MessageResponse, PingPacketData } from './wire-types.js';

/**
 * Everything one fake client received, and the waits on it. Every wait has a deadline and
 * fails with what it waited for and what arrived instead; a closed connection fails pending
 * waits at once instead of letting them run into their deadline.
 */

export type Packet = Readonly<Record<string, unknown>>;

interface Waiter {
  readonly check: () => boolean;
  readonly fail: (why: string) => void;
}

const SHOWN_PACKETS = 5;
const SHOWN_CHARS = 160;

export class ClientInbox {
  /** Every well-formed packet, in arrival order. */
  readonly packets: Packet[] = [];
  /** Lines that were not a JSON object (the script logs and skips them). */
  readonly badLines: string[] = [];
  readonly replies: MessageResponse[] = [];
  readonly pings: PingPacketData[] = [];
  #replyCursor = 0;
  readonly #eventCursors = new Map<string, number>();
  readonly #waiters = new Set<Waiter>();
  #closedHow: string | null = null;
  #onHandshake: ((data: HandshakeCompleteData) => void) | null;

  readonly #v33: boolean;

  /** `v33`: read lines as the v3.3 script does ("JSON + raw"). */
  constructor(onHandshake: (data: HandshakeCompleteData) => void, v33 = false) {
    this.#onHandshake = onHandshake;
    this.#v33 = v33;
  }

  get closedHow(): string | null {
    return this.#closedHow;
  }

  /** Parses one line like the script: JSON.parse, a failure is recorded and skipped. Returns the packet. */
  acceptLine(line: string): Packet | undefined {
    let value: unknown;
    const frame = this.#v33 ? splitV33Line(line) : { json: line, payload: '' };
    try {
      value = frame === undefined ? undefined : JSON.parse(frame.json);
    } catch {
      value = undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.badLines.push(line);
      this.#wake();
      return undefined;
    }
    const packet = value as Packet;
    this.packets.push(packet);
    if (this.#v33) {
      const event = packet.event;
      if ((event === 'messageResponse' || event === 'scheduleMessage') && typeof packet.data === 'object' && packet.data !== null) {
        const reply = readV33Reply(packet.data as Record<string, unknown>, frame!.payload);
        if (reply !== undefined) this.replies.push(reply);
      }
    } else if (packet.event === 'messageResponse') this.replies.push(packet.data as MessageResponse);
    if (packet.event === 'ping') this.pings.push(packet.data as PingPacketData);
    if (packet.event === 'handshakeComplete' && this.#onHandshake) {
      this.#onHandshake(packet.data as HandshakeCompleteData);
      this.#onHandshake = null;
    }
    this.#wake();
    return packet;
  }

  markClosed(how: string): void {
    if (this.#closedHow !== null) return;
    this.#closedHow = how;
    for (const waiter of [...this.#waiters]) {
      if (!waiter.check()) waiter.fail(`the connection closed (${how})`);
    }
  }

  /** The next `count` replies not yet consumed; they are consumed when the wait succeeds. */
  takeReplies(count: number, timeoutMs: number): Promise<MessageResponse[]> {
    const what = count === 1 ? 'a messageResponse' : `${count} messageResponse packets`;
    return this.#wait(what, timeoutMs, () => {
      if (this.replies.length - this.#replyCursor < count) return undefined;
      const taken = this.replies.slice(this.#replyCursor, this.#replyCursor + count);
      this.#replyCursor += count;
      return taken;
    });
  }

  /** Marks every reply received so far as consumed; returns how many were skipped. */
  skipReplies(): number {
    const skipped = this.replies.length - this.#replyCursor;
    this.#replyCursor = this.replies.length;
    return skipped;
  }

  /** The next not-yet-taken packet whose event is `event` (cursor per event). */
  takePacket(event: string, timeoutMs: number): Promise<Packet> {
    return this.#wait(`a '${event}' packet`, timeoutMs, () => {
      const from = this.#eventCursors.get(event) ?? 0;
      for (let i = from; i < this.packets.length; i++) {
        const packet = this.packets[i]!;
        if (packet.event === event) {
          this.#eventCursors.set(event, i + 1);
          return packet;
        }
      }
      this.#eventCursors.set(event, this.packets.length);
      return undefined;
    });
  }

  #wait<T>(what: string, timeoutMs: number, take: () => T | undefined): Promise<T> {
    const packetsBefore = this.packets.length;
    const badBefore = this.badLines.length;
    return new Promise<T>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter: Waiter = {
        check: () => {
          const value = take();
          if (value === undefined) return false;
          settle();
          resolve(value);
          return true;
        },
        fail: (why) => {
          settle();
          reject(new Error(`waited for ${what}, but ${why}; ${this.#describeSince(packetsBefore, badBefore)}`));
        },
      };
      const timer = setTimeout(() => waiter.fail(`none came within ${timeoutMs} ms`), timeoutMs);
      this.#waiters.add(waiter);
      if (waiter.check()) return;
      if (this.#closedHow !== null) waiter.fail(`the connection is closed (${this.#closedHow})`);
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter.check();
  }

  #describeSince(packetsBefore: number, badBefore: number): string {
    const arrived = this.packets.length - packetsBefore;
    const bad = this.badLines.length - badBefore;
    const state = this.#closedHow === null ? 'connection open' : `connection closed (${this.#closedHow})`;
    const during = arrived === 0 ? 'nothing arrived during the wait' : `${arrived} packet(s) arrived during the wait`;
    const badNote = bad > 0 ? ` and ${bad} unparsable line(s)` : '';
    const last = this.packets.slice(-SHOWN_PACKETS).map((p) => clip(JSON.stringify(p)));
    const lastNote = last.length === 0 ? 'no packet received at all' : `last received: ${last.join(', ')}`;
    return `${during}${badNote}; ${lastNote} (${state})`;
  }
}

function clip(text: string): string {
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…(${text.length} chars)` : text;
}
