import type { ApprovalStatus, ClientInfo } from '@botbridge/sdk';
import type { ApprovalCache } from '../approval/approval-cache.js';
import { BridgeError } from '../errors.js';
import type { AnalyzePacket } from '../protocol/packets.js';

/**
 * Where an admitted chat line came from: a live client session, or the sandbox speaking for a
 * device (`Bridge.inject`). Admission and the message job need only this much of a session.
 */
export interface MessageSource {
  readonly botName: string;
  readonly deviceId: string;
  /** The device's approval when the job runs (not when the line arrived). */
  readonly approval: ApprovalStatus;
  /** The script version its handshake reported, when it crossed the wire. */
  readonly clientVersion?: string;
  info(): ClientInfo;
  /**
   * Admission credits: called when one of its messages enters the queue, and when that job
   * leaves the dispatcher (finished, failed, timed out). A connection uses them to stop reading
   * while it has its share of the queue, so a chatty phone cannot take every place.
   */
  jobQueued?(): void;
  jobEnded?(): void;
}

/** A synthetic chat line as the debug channel's sandbox and tests describe it. */
export interface InjectInput {
  readonly botName: string;
  readonly deviceId: string;
  readonly room: string;
  /** KakaoTalk's decimal channel id; null keys the room by its name, as for old clients. */
  readonly channelId?: string | null;
  readonly text: string;
  readonly sender?: string;
  readonly userHash?: string | null;
  readonly isGroupChat?: boolean;
  readonly isMention?: boolean;
}

export type InjectResult = { readonly traceId: string } | { readonly dropped: string };

const DECIMAL = /^\d+$/;

/**
 * The source of a sandbox line whose device has no live connection. Approval is read from the
 * cache like a real device's (an unknown device is pending, so fail closed); its replies are
 * routed like any reply: to another live, approved device of the bot, or nowhere.
 */
export class SandboxSource implements MessageSource {
  constructor(
    readonly botName: string,
    readonly deviceId: string,
    private readonly approvals: ApprovalCache,
  ) {}

  get approval(): ApprovalStatus {
    return this.approvals.deviceStatus(this.botName, this.deviceId) ?? 'pending';
  }

  info(): ClientInfo {
    return {
      connectionId: 'sandbox',
      botName: this.botName,
      deviceId: this.deviceId,
      clientType: 'sandbox',
      version: '',
      deviceIP: null,
      deviceInfo: null,
      remoteAddress: 'sandbox',
      remotePort: 0,
      connectedAt: Date.now(),
      approval: this.approval,
      lastPingAt: null,
      rttMs: null,
      monitoring: null,
      pendingOutputBytes: 0,
    };
  }
}

/** The analyze packet a bridge script would have sent for `input` (no logId, no auth: it never crossed the wire). */
export function sandboxPacket(input: InjectInput): AnalyzePacket {
  const channelId = input.channelId ?? null;
  if (channelId !== null && !DECIMAL.test(channelId)) {
    throw new BridgeError('BRIDGE_ERR_PACKET_INVALID', { event: 'sandbox', reason: 'channelId must be a decimal string or null' });
  }
  if (input.room.length === 0) throw new BridgeError('BRIDGE_ERR_PACKET_INVALID', { event: 'sandbox', reason: 'room must not be empty' });
  return {
    room: input.room,
    text: input.text,
    sender: input.sender ?? 'sandbox',
    isGroupChat: input.isGroupChat ?? true,
    isMention: input.isMention ?? false,
    channelId,
    logId: null,
    userHash: input.userHash ?? null,
    timestamp: null,
    botName: input.botName,
    clientType: 'sandbox',
    packageName: null,
    threadId: null,
    legacy: false,
    auth: null,
  };
}
