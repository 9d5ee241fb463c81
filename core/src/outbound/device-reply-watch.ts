/** A reply as the watch sees it: where it goes. */
export interface WatchedReply {
  readonly botName: string;
  readonly deviceId?: string | null | undefined;
}

/**
 * Shutdown only: how many replies addressed to each device are still on their way to a socket
 * (held for their room's order or queued in its send chain), so a connection is closed as soon
 * as its own replies are written. It starts from one walk over the sequencer and is then kept
 * up by ReplyPath on emit and delivery; nothing of this exists while the bridge runs normally.
 * Replies without a device (a proactive send to a room) belong to no connection's drain.
 */
export class DeviceReplyWatch<R extends object> {
  private readonly counts = new Map<string, number>();
  /** The replies counted, so a delivery started before the watch is not subtracted. */
  private readonly counted = new WeakSet<R>();

  constructor(
    private readonly targetOf: (reply: R) => WatchedReply,
    /** Runs when a device's last counted reply was handed to outbound (written, queued or refused). */
    private readonly onClear: (botName: string, deviceId: string) => void,
  ) {}

  pending(botName: string, deviceId: string): number {
    return this.counts.get(key(botName, deviceId)) ?? 0;
  }

  add(reply: R): void {
    const { botName, deviceId } = this.targetOf(reply);
    if (deviceId === undefined || deviceId === null || deviceId === '') return;
    const k = key(botName, deviceId);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    this.counted.add(reply);
  }

  delivered(reply: R): void {
    if (!this.counted.delete(reply)) return;
    const { botName, deviceId } = this.targetOf(reply);
    const k = key(botName, deviceId!);
    const left = (this.counts.get(k) ?? 1) - 1;
    if (left > 0) {
      this.counts.set(k, left);
      return;
    }
    this.counts.delete(k);
    this.onClear(botName, deviceId!);
  }
}

function key(botName: string, deviceId: string): string {
  return `${botName}\u0000${deviceId}`;
}
