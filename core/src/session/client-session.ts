import type { ApprovalStatus, ClientInfo, PingMonitoring } from '@botbridge/sdk';
import { ApprovalCache } from '../approval/approval-cache.js';
import { approveCommand } from '../approval/pending-notices.js';
import { formatMessage, reasonOf } from '../errors.js';
import { eventTime } from '../events/bridge-events.js';
import { v32Codec, type MessageResponseMessage, type ProtocolCodec, type ProtocolName } from '../protocol/codec.js';
import { isV33Handshake, selectCodec } from '../protocol/codec-select.js';
import type { AnalyzePacket, HandshakePacket, PingAnswerPacket } from '../protocol/packets.js';
import { v33Unsendable } from '../protocol/v33-codec.js';
import type { Connection } from '../transport/connection.js';
import { FailureWindow } from './auth-guard.js';
import { analyzePacketId } from './replay-guard.js';
import { banParams, strikeFailure } from './ban-strikes.js';
import { decideHandshake } from './handshake.js';
import { HeldLines } from './held-lines.js';
import type { SessionDeps } from './session-deps.js';

type State = 'handshaking' | 'ready' | 'closed';

/** How a reply went to the socket (the reasons are SendRejectReason's). */
export type ReplyWrite = 'written' | 'too_long' | 'invalid' | 'closed';

const OPEN_PINGS_KEPT = 8;

/**
 * One bridge-script connection: protocol codec (chosen from the first line), handshake (absolute
 * deadline, approval, takeover), per-packet auth, ping schedule and silence detection. Packets the
 * script writes right behind its handshake (it never waits for the answer) are held, with reading
 * paused, until the handshake has been decided, then processed in order; so are the v3.3 lines
 * its offline queue sends before the handshake (bounded), ahead of them. The device's journal
 * rows a restart left unanswered go ahead of both.
 */
export class ClientSession {
  private state: State = 'handshaking';
  private handshakeSeen = false;
  /** v3.2 until the first line says otherwise; fixed from then on. */
  private codec: ProtocolCodec = v32Codec;
  private codecChosen = false;
  private readonly held: HeldLines;
  private earlyOverflowLogged = false;
  private identity: HandshakePacket | null = null;
  /** The approval cache's key of this device, made when the handshake names it (read per message). */
  private approvalKey = ApprovalCache.deviceKey('', '');
  private readonly handshakeTimer: NodeJS.Timeout;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly authFailures: FailureWindow;
  /** Issue 13: rejected lines after the handshake (bad JSON, invalid packets) close the connection past a few. */
  private readonly rejectedLines: FailureWindow;
  private lastPacketAt: number;
  /** `conn.pausedMs()` when the last packet arrived: pauses since then are not the client's silence. */
  private pausedAtLastPacket = 0;
  /** Messages of this connection admitted and not yet out of the dispatcher (admission credits). */
  private inPipeline = 0;
  /** Shutdown only (whenNoJobs): runs when the last admitted message left the dispatcher. */
  private onNoJobs: (() => void) | undefined = undefined;
  private lastPingAtMs: number | null = null;
  private lastRttMs: number | null = null;
  private lastMonitoring: PingMonitoring | null = null;
  private closeReason: string | null = null;
  /** The store's recovery count when a degraded handshake was accepted; null when verified. */
  private unverifiedUntilRecovery: number | null = null;
  /** Timestamps of pings sent on this connection and not yet answered (newest last). */
  private readonly openPings: number[] = [];

  constructor(
    readonly conn: Connection,
    private readonly deps: SessionDeps,
  ) {
    this.lastPacketAt = Date.now();
    this.authFailures = new FailureWindow(deps.settings.auth.maxFailures, deps.settings.auth.failureWindowMs);
    this.held = new HeldLines(deps.settings.limits.maxPreHandshakeLines, deps.settings.limits.maxPreHandshakeBytes);
    this.rejectedLines = new FailureWindow(deps.settings.limits.maxRejectedLines, deps.settings.limits.rejectedLineWindowMs);
    const timeoutMs = deps.settings.session.handshakeTimeoutMs;
    this.handshakeTimer = setTimeout(() => {
      if (this.state !== 'handshaking') return;
      strikeFailure(this.deps, null, this.conn.remoteAddress, 'handshake');
      this.close('BRIDGE_ERR_HANDSHAKE_TIMEOUT', `${timeoutMs} ms`);
    }, timeoutMs);
    conn.start({
      onPacket: (value, raw) => this.handleValue(value, raw),
      onBadLine: (code, reason) => this.handleBadLine(code, reason),
      onClose: (reason) => this.handleClose(reason),
    });
  }

  get botName(): string {
    return this.identity?.botName ?? '';
  }

  get deviceId(): string {
    return this.identity?.deviceId ?? '';
  }

  /** The script version its handshake reported (informational, ChatMessage.clientVersion). */
  get clientVersion(): string | undefined {
    return this.identity?.version;
  }

  /** The protocol this phone speaks ('v3.2' until its first line said otherwise). */
  get protocol(): ProtocolName {
    return this.codec.name;
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get approval(): ApprovalStatus {
    // A handshake decided while the store was degraded stays unapproved until it recovers.
    if (this.unverifiedUntilRecovery !== null && this.deps.storeHealth.recoveries <= this.unverifiedUntilRecovery) return 'pending';
    return this.deps.approvals.deviceStatusOf(this.approvalKey) ?? 'pending';
  }

  info(): ClientInfo {
    const id = this.identity;
    return {
      connectionId: this.conn.id,
      botName: this.botName,
      deviceId: this.deviceId,
      clientType: id?.clientType ?? '',
      version: id?.version ?? '',
      protocol: this.codec.name,
      deviceIP: id?.deviceIP ?? null,
      deviceInfo: id?.deviceInfo ?? null,
      remoteAddress: this.conn.remoteAddress,
      remotePort: this.conn.remotePort,
      connectedAt: this.conn.connectedAt,
      approval: this.approval,
      lastPingAt: this.lastPingAtMs,
      rttMs: this.lastRttMs,
      monitoring: this.lastMonitoring,
      pendingOutputBytes: this.conn.pendingOutputBytes,
    };
  }

  /** false: the connection is closing or closed and the line was not queued (see Connection.write). */
  send(line: string): boolean {
    return this.conn.write(line);
  }

  /**
   * Encodes a reply with this connection's codec and writes it. A reply this phone cannot take
   * whole (its encoded line over the line limit, or media a v3.3 raw payload cannot carry) is not
   * written: nothing is ever truncated.
   */
  sendReply(message: MessageResponseMessage, event: 'messageResponse' | 'scheduleMessage' = 'messageResponse'): ReplyWrite {
    if (this.codec.name === 'v3.3' && v33Unsendable(message.content) !== null) return 'invalid';
    const line = event === 'messageResponse' ? this.codec.encodeMessageResponse(message) : this.codec.encodeScheduleMessage(message);
    // Cheap when far below the limit: UTF-8 is at most 3 bytes per UTF-16 unit.
    const limit = this.deps.settings.limits.maxLineBytes;
    if (line.length * 3 > limit && Buffer.byteLength(line) > limit) return 'too_long';
    return this.conn.write(line) ? 'written' : 'closed';
  }

  close(code: string, detail?: string): void {
    this.conn.close(code, detail);
  }

  /** Records a ping answer's round trip (called by the ping recorder). */
  notePing(receivedAt: number, rttMs: number, monitoring: PingMonitoring): void {
    this.lastPingAtMs = receivedAt;
    this.lastRttMs = rttMs;
    this.lastMonitoring = monitoring;
  }

  /**
   * Admission credits. A connection reads while it has fewer messages in the pipeline than its
   * share: `limits.maxQueuedPerConnection`, and never more than an equal part of the queue
   * (`pipeline.queueCapacity` / ready connections). The shares together fit in the queue, so
   * phones alone do not fill it; and a phone that used its share waits for its own messages, not
   * for a global resume that a faster socket would win again (the fault suite's starved phones).
   */
  jobQueued(): void {
    this.inPipeline += 1;
    if (this.inPipeline >= this.creditLimit()) this.conn.pauseReading('credit');
  }

  jobEnded(): void {
    this.inPipeline -= 1;
    if (this.inPipeline < this.creditLimit()) this.conn.resumeReading('credit');
    if (this.inPipeline === 0) this.onNoJobs?.();
  }

  /** Messages of this connection admitted and not yet out of the dispatcher. */
  get admittedInPipeline(): number {
    return this.inPipeline;
  }

  /** Shutdown: `listener` runs each time this connection's last admitted message leaves the dispatcher. */
  whenNoJobs(listener: () => void): void {
    this.onNoJobs = listener;
  }

  private creditLimit(): number {
    const { limits, pipeline } = this.deps.settings;
    const equalPart = Math.floor(pipeline.queueCapacity / Math.max(1, this.deps.registry.size));
    return Math.max(1, Math.min(limits.maxQueuedPerConnection, equalPart));
  }

  private handleValue(value: unknown, raw: string): void {
    this.lastPacketAt = Date.now();
    this.pausedAtLastPacket = this.conn.pausedMs();
    if (this.state === 'ready') return this.route(value, raw);
    if (this.state === 'closed') return;
    if (this.handshakeSeen) {
      this.held.holdBehind({ value, raw });
      return;
    }
    if (!this.codecChosen) {
      const first = selectCodec(value);
      this.codec = first.codec;
      this.codecChosen = true;
      if (first.kind === 'early') return this.holdEarly(value, raw);
    } else if (this.codec.name === 'v3.3' && !isV33Handshake(value)) {
      return this.holdEarly(value, raw);
    }
    this.handshakeSeen = true;
    this.deps.counters.inc('packets_in', 'handshake');
    const decoded = this.codec.decodeHandshake(value, raw);
    if (!decoded.ok) {
      this.handshakeEvent('', '', '', 'invalid');
      this.deps.logs.get('handshake').warn({ conn: this.conn.id, remote: this.conn.remoteAddress, reason: decoded.reason }, 'invalid handshake');
      this.conn.write(
        this.codec.encodeHandshakeComplete({
          success: false,
          approved: false,
          message: '핸드셰이크 형식이 올바르지 않습니다',
          serverVersion: this.deps.serverVersion,
        }),
      );
      this.deps.counters.inc('packets_out', 'handshakeComplete');
      strikeFailure(this.deps, null, this.conn.remoteAddress, 'handshake');
      this.close('BRIDGE_ERR_HANDSHAKE_INVALID', decoded.reason);
      return;
    }
    // The handshake is unsigned by protocol, so a well-formed one buys nothing beyond the normal
    // line limit; raising it now lets a long analyze line in the same read chunk through.
    this.conn.setLineLimit(this.deps.settings.limits.maxLineBytes);
    this.conn.pauseReading('handshake');
    void this.completeHandshake(decoded.handshake).catch((error: unknown) => {
      this.deps.logs.get('handshake').error({ conn: this.conn.id, err: error }, 'handshake failed');
      this.close('BRIDGE_ERR_HANDSHAKE_REFUSED', reasonOf(error));
    });
  }

  private async completeHandshake(hs: HandshakePacket): Promise<void> {
    this.identity = hs;
    this.approvalKey = ApprovalCache.deviceKey(hs.botName, hs.deviceId);
    // The decision's own lines (registration failures, a degraded store) belong to the handshake category.
    // Cluster mode: the device's dedup keys from every node, loaded while the decision is made.
    const dedupLoad = this.deps.deviceDedup?.load(hs.botName, hs.deviceId);
    // Cluster mode: a dead previous node's unanswered rows of this device, claimed meanwhile.
    const takeover = this.deps.deviceTakeover?.(hs.botName, hs.deviceId);
    const decision = await decideHandshake(hs, this, { ...this.deps, log: this.deps.logs.get('handshake') });
    if (dedupLoad !== undefined) await dedupLoad;
    if (takeover !== undefined) await takeover;
    if (this.state === 'closed') return;
    const reply = (success: boolean, approved: boolean, message: string) => {
      this.conn.write(
        this.codec.encodeHandshakeComplete({ success, approved, message, serverVersion: this.deps.serverVersion }),
      );
      this.deps.counters.inc('packets_out', 'handshakeComplete');
    };
    this.handshakeEvent(hs.botName, hs.deviceId, hs.version, decision.counter);
    if (!decision.accept) {
      this.deps.logs.get('handshake').info({ botName: hs.botName, deviceId: hs.deviceId, reason: decision.detail }, 'handshake refused');
      reply(false, false, decision.message);
      this.close(decision.code, decision.detail);
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.unverifiedUntilRecovery = decision.degradedAtRecovery ?? null;
    const replaced = this.deps.registry.add(this);
    if (replaced && replaced !== this) replaced.close('BRIDGE_ERR_REPLACED');
    this.state = 'ready';
    this.deps.onReady(this);
    reply(true, decision.approved, decision.message);
    const approval = this.approval;
    // A pending device says how to approve it: the operator reads this line first.
    const approve = approval === 'pending' ? { approve: approveCommand('devices', hs.botName, hs.deviceId) } : {};
    this.deps.log.info(
      { botName: hs.botName, deviceId: hs.deviceId, version: hs.version, remote: this.conn.remoteAddress, approval, ...approve },
      'client connected',
    );
    this.schedulePing(Math.floor(Math.random() * (this.deps.settings.session.pingJitterMs + 1)));
    // Issue 11: the messages this device sent before a restart and never got answered enter
    // admission first, in one synchronous run: their rooms' reply tickets open before those of
    // the lines below, so a room's replayed messages are answered before its fresh ones.
    this.deps.journalReplay?.admitBefore(this);
    // Queued before the handshake, then written behind it: each line's auth is checked now,
    // against the identity the handshake gave.
    for (const line of this.held.drain()) this.route(line.value, line.raw);
    this.conn.resumeReading('handshake');
  }

  /**
   * Holds a v3.3 line sent before the handshake, within `limits.maxPreHandshakeLines` and
   * `maxPreHandshakeBytes` (each line was within the pre-handshake line limit before it was
   * parsed). Over the bounds it is counted, and logged once per connection (a phone streaming
   * lines before its handshake must not flood the log until its deadline closes it).
   */
  private holdEarly(value: unknown, raw: string): void {
    if (this.held.holdEarly({ value, raw })) return;
    this.deps.counters.inc('packets_dropped', 'pre_handshake_overflow');
    if (this.earlyOverflowLogged) return;
    this.earlyOverflowLogged = true;
    this.deps.logs.get('handshake').warn(
      { conn: this.conn.id, remote: this.conn.remoteAddress, held: this.held.earlyCount, heldBytes: this.held.earlyByteCount, code: 'BRIDGE_ERR_PRE_HANDSHAKE_OVERFLOW' },
      'line before the handshake dropped: over the pre-handshake limits (further ones are only counted)',
    );
  }

  private handshakeEvent(botName: string, deviceId: string, version: string, result: string): void {
    this.deps.events.publish('connection:handshake', { connectionId: this.conn.id, botName, deviceId, version, result });
  }

  private route(value: unknown, raw: string): void {
    const packet = this.codec.decodePacket(value, raw);
    switch (packet.kind) {
      case 'analyze':
        this.deps.counters.inc('packets_in', 'analyze');
        // Issue 13: the replay cache holds logId-less lines only. A line with a logId is
        // remembered by dedup (seeded from the journal across restarts), which drops its repeats;
        // recording every chat line here too cost ~150 B per message for the whole auth window
        // and, at a busy phone's rate, filled the per-device share and refused real lines.
        switch (this.authorised(packet.data.auth, 'analyze', packet.data.logId === null ? analyzePacketId(packet.data) : undefined)) {
          case true:
            this.deps.admission.admit(this, packet.data as AnalyzePacket);
            return;
          case 'replayed':
            // Issue 13: a repeat of a logId line is the duplicate dedup reports; a logId-less one a refused replay.
            if (packet.data.logId !== null) this.deps.admission.dropDuplicate(this, packet.data as AnalyzePacket);
            else this.replayRefused('analyze');
            return;
          default:
            return;
        }
        return;
      case 'ping':
        this.deps.counters.inc('packets_in', 'ping');
        switch (this.authorised(packet.data.auth, 'ping', `p:${packet.data.serverTimestamp}`)) {
          case true:
            this.answered(packet.data);
            return;
          case 'replayed':
            this.replayRefused('ping');
            return;
          default:
            return;
        }
        return;
      case 'unknown':
        this.deps.counters.inc('packets_dropped', 'unknown_event');
        this.deps.log.debug({ conn: this.conn.id, event: packet.event, code: 'BRIDGE_ERR_UNKNOWN_EVENT' }, 'unknown event dropped');
        return;
      case 'invalid':
        this.deps.counters.inc('packets_dropped', 'invalid_packet');
        this.deps.log.warn({ botName: this.botName, deviceId: this.deviceId, event: packet.event, reason: packet.reason, code: 'BRIDGE_ERR_PACKET_INVALID' },
          'invalid packet dropped',
        );
        this.rejected('invalid_packet');
        return;
    }
  }

  /**
   * Records a ping answer only when it echoes a ping sent on this connection: the script queues
   * answers produced while disconnected and sends them after reconnecting (PROTOCOL.md §3), and
   * such an echo of an old connection's ping would record a round trip that never happened.
   */
  private answered(packet: PingAnswerPacket): void {
    const index = this.openPings.indexOf(packet.serverTimestamp);
    if (index < 0) {
      this.deps.counters.inc('pings_ignored', 'not_sent_here');
      this.deps.logs.get('ping').debug({ botName: this.botName, deviceId: this.deviceId, serverTimestamp: packet.serverTimestamp }, 'ping answer for a ping not sent on this connection');
      return;
    }
    this.openPings.splice(0, index + 1);
    this.deps.pings.record(this, packet, Date.now());
  }

  /**
   * True when the packet may be processed; counts failures and closes on repeated ones. Issue 13:
   * `packetId` lets the auth guard refuse a replayed line (replay-guard.ts); a replay is no
   * strike: the app may fire twice for one chat line within one block's lifetime.
   */
  private authorised(auth: unknown, event: string, packetId: string | undefined): boolean | 'replayed' {
    const now = Date.now();
    const outcome = this.deps.auth.check(auth, this.botName, this.deviceId, now, packetId);
    if (outcome.ok) return true;
    if (outcome.code === 'BRIDGE_ERR_AUTH_REPLAYED' && outcome.params.replay === 'replayed' && outcome.enforced) return 'replayed';
    this.deps.counters.inc('auth_failures', outcome.code);
    this.deps.log.warn(
      { botName: this.botName, deviceId: this.deviceId, event, code: outcome.code, enforced: outcome.enforced, ...outcome.params },
      outcome.code === 'BRIDGE_ERR_AUTH_STALE' ? "auth check failed: is the phone's clock off?" : 'auth check failed',
    );
    if (!outcome.enforced) return true;
    // Issue 13: failed authentication earns a ban strike for the device and its address.
    const ban = strikeFailure(this.deps, this, this.conn.remoteAddress, 'auth');
    if (ban !== undefined) {
      this.close('BRIDGE_ERR_BANNED', formatMessage('BRIDGE_ERR_BANNED', banParams(ban)));
      return false;
    }
    const failures = this.authFailures.record(now);
    if (this.authFailures.exceeded(failures)) {
      this.close('BRIDGE_ERR_AUTH_REPEATED', `${failures} failures`);
    }
    return false;
  }

  private replayRefused(event: string): void {
    this.deps.counters.inc('auth_failures', 'BRIDGE_ERR_AUTH_REPLAYED');
    this.deps.log.debug({ botName: this.botName, deviceId: this.deviceId, event, code: 'BRIDGE_ERR_AUTH_REPLAYED' }, 'replayed packet dropped');
  }

  private handleBadLine(code: string, reason: string): void {
    this.deps.counters.inc('bad_lines', code);
    if (this.state !== 'ready') {
      strikeFailure(this.deps, null, this.conn.remoteAddress, 'handshake');
      this.close(code, reason);
      return;
    }
    this.deps.log.warn({ botName: this.botName, deviceId: this.deviceId, code, reason }, 'bad line skipped');
    this.rejected(code);
  }

  /** Issue 13: a connection that keeps sending lines it knows are rejected is closed, counted by reason. */
  private rejected(reason: string): void {
    this.deps.counters.inc('rejected_lines', reason);
    const count = this.rejectedLines.record(Date.now());
    if (this.rejectedLines.exceeded(count)) {
      strikeFailure(this.deps, this, this.conn.remoteAddress, 'rejected_lines');
      const windowMs = this.deps.settings.limits.rejectedLineWindowMs;
      this.close('BRIDGE_ERR_REJECTED_LINES', formatMessage('BRIDGE_ERR_REJECTED_LINES', { count, windowMs, reason }));
    }
  }

  private schedulePing(delayMs: number): void {
    this.pingTimer = setTimeout(() => this.pingTick(), delayMs);
  }

  private pingTick(): void {
    if (this.state !== 'ready') return;
    const { pingIntervalMs, silentIntervalsBeforeClose } = this.deps.settings.session;
    // Time we held reading paused (full queue, its own credits, store backpressure) is not the
    // client's silence: its answers are waiting in the socket, unread by us.
    const silentMs = Date.now() - this.lastPacketAt - (this.conn.pausedMs() - this.pausedAtLastPacket);
    if (silentMs >= pingIntervalMs * silentIntervalsBeforeClose) {
      this.close('BRIDGE_ERR_SILENT_CLIENT', `${Math.round(silentMs)} ms`);
      return;
    }
    if (this.conn.readingPaused) {
      // Its answer could not be read before reading resumes, so its round trip would be our
      // pause, not the network's; the next tick tries again.
      this.deps.counters.inc('pings_skipped', 'reading_paused');
      this.schedulePing(pingIntervalMs);
      return;
    }
    const serverTimestamp = Date.now();
    this.openPings.push(serverTimestamp);
    // A client that never answers keeps at most a few open pings (it is closed as silent anyway).
    if (this.openPings.length > OPEN_PINGS_KEPT) this.openPings.shift();
    this.conn.write(
      this.codec.encodePing({
        botName: this.botName,
        deviceId: this.deviceId,
        serverTimestamp,
        isManual: false,
        totalClients: this.deps.registry.size,
      }),
    );
    this.deps.counters.inc('packets_out', 'ping');
    this.schedulePing(pingIntervalMs);
  }

  private handleClose(reason: string): void {
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.closeReason = reason;
    this.held.clear();
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.pingTimer);
    this.deps.onClosed(this, wasReady, reason);
  }

  get closedBecause(): string | null {
    return this.closeReason;
  }
}
