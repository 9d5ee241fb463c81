import type { PingMonitoring } from '@botbridge/sdk';
import type { EventBus } from '../events/bridge-events.js';
import type { PingAnswerPacket } from '../protocol/packets.js';
import type { ClientSession } from '../session/client-session.js';
import type { PingRow } from '../store/types.js';
import type { BatchWriter } from './batch-writer.js';

/**
 * Turns a ping answer into a round-trip sample: RTT = receive time − the echoed server
 * timestamp (PROTOCOL.md §6; it includes the phone's own delays, e.g. a media send). Stored with
 * the connection's real peer address, not only the self-reported one.
 */
export class PingRecorder {
  constructor(
    private readonly deps: { events: EventBus; writer: BatchWriter<PingRow> },
  ) {}

  record(session: ClientSession, packet: PingAnswerPacket, receivedAt: number): void {
    const rttMs = Math.max(0, receivedAt - packet.serverTimestamp);
    const m = packet.monitoring;
    const monitoring: PingMonitoring = {
      totalMemory: m?.totalMemory ?? null,
      memoryUsage: m?.memoryUsage ?? null,
      memoryPercent: m?.memoryPercent ?? null,
      messageQueueSize: m?.messageQueueSize ?? null,
      activeRooms: m?.activeRooms ?? null,
    };
    session.notePing(receivedAt, rttMs, monitoring);
    this.deps.writer.push({
      botName: session.botName,
      deviceId: session.deviceId,
      clientIp: session.conn.remoteAddress,
      pingTimeMs: rttMs,
      clientTimestamp: packet.serverTimestamp,
      serverTimestamp: receivedAt,
      ...monitoring,
    });
    this.deps.events.publish('ping', {
      botName: session.botName,
      deviceId: session.deviceId,
      rttMs,
      serverTimestamp: packet.serverTimestamp,
      receivedAt,
      remoteAddress: session.conn.remoteAddress,
      monitoring,
    });
  }
}
