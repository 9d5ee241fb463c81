import { randomBytes } from 'node:crypto';

/**
 * Trace ids that follow one message from arrival to its replies: a random per-process prefix
 * plus a counter, unique across restarts and cheaper than a UUID per message.
 */
export class TraceIds {
  private readonly prefix = randomBytes(4).toString('hex');
  private counter = 0;

  next(): string {
    this.counter += 1;
    return `${this.prefix}-${this.counter.toString(36)}`;
  }
}
