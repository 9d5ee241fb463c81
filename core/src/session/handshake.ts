import type { ApprovalStatus } from '@botbridge/sdk';
import { BridgeError, formatMessage, reasonOf, type BridgeErrorCode } from '../errors.js';
import { banParams, handshakeBan } from './ban-strikes.js';
import { handshakeMessages as HANDSHAKE_MESSAGES } from '../protocol/codec.js';
import type { HandshakePacket } from '../protocol/packets.js';
import type { ClientSession } from './client-session.js';
import type { SessionDeps } from './session-deps.js';

export type HandshakeDecision =
  | {
      readonly accept: true;
      readonly approved: boolean;
      readonly message: string;
      readonly counter: string;
      /**
       * Decided while the store was degraded: the store's recovery count at that moment. The
       * session is not approved before the store has recovered once more.
       */
      readonly degradedAtRecovery?: number;
    }
  | {
      readonly accept: false;
      readonly message: string;
      readonly code: BridgeErrorCode;
      readonly detail: string;
      readonly counter: string;
    };

const REFUSED: ReadonlySet<ApprovalStatus> = new Set(['denied', 'revoked', 'blocked']);

export function isRefusedStatus(status: ApprovalStatus): boolean {
  return REFUSED.has(status);
}

/**
 * Decides a handshake (PROTOCOL.md §2.3, §5): refused devices are answered from the cache with
 * no store round trip; known devices are answered from the cache and refreshed in the
 * background; first contact registers the device. Any store failure fails closed: the client
 * stays connected but is not approved. Plugins get the last word through onHandshake.
 *
 * While the store is degraded (unreachable or too slow), no handshake is approved, not even a
 * cached one: the answer is "pending", no query is attempted, and the session is not approved
 * before the store has recovered (the bridge then registers devices it could not register).
 * A registration never holds a handshake longer than `store.queryTimeoutMs`.
 */
export async function decideHandshake(hs: HandshakePacket, session: ClientSession, deps: SessionDeps): Promise<HandshakeDecision> {
  const cached = deps.approvals.deviceStatus(hs.botName, hs.deviceId);
  // Issue 13: temporary bans, device first (ban-strikes.ts).
  const ban = handshakeBan(deps, hs.botName, hs.deviceId, session.conn.remoteAddress, cached === 'approved');
  if (ban !== undefined) {
    const params = banParams(ban);
    return { accept: false, message: '일시적으로 접속이 차단되었습니다', code: 'BRIDGE_ERR_BANNED', detail: formatMessage('BRIDGE_ERR_BANNED', params), counter: 'banned' };
  }
  if (cached !== undefined && isRefusedStatus(cached)) return refused(hs, cached);
  if (!deps.storeHealth.healthy) return degraded(hs, session, deps);

  let status: ApprovalStatus;
  let created = false;
  const register = () =>
    deps.approvals.registerDevice({
      botName: hs.botName,
      deviceId: hs.deviceId,
      ipAddress: session.conn.remoteAddress,
      clientType: hs.clientType,
      clientVersion: hs.version,
    });
  if (cached !== undefined) {
    status = cached;
    register().catch((error: unknown) =>
      deps.log.warn({ botName: hs.botName, deviceId: hs.deviceId, err: reasonOf(error) }, 'device refresh failed'),
    );
  } else {
    try {
      ({ status, created } = await withinDeadline(register(), deps.settings.store.queryTimeoutMs));
    } catch (error) {
      deps.events.publish('store:error', { operation: 'register_device' });
      deps.log.error({ botName: hs.botName, deviceId: hs.deviceId, err: reasonOf(error) }, 'device registration failed; not approved');
      status = 'pending';
    }
  }
  if (isRefusedStatus(status)) return refused(hs, status);

  const verdict = await deps.hooks.onHandshake.promise(session.info());
  if (verdict) {
    return {
      accept: false,
      message: verdict.reason,
      code: 'BRIDGE_ERR_HANDSHAKE_REFUSED',
      detail: verdict.reason,
      counter: 'refused_by_plugin',
    };
  }
  if (status === 'approved') return { accept: true, approved: true, message: HANDSHAKE_MESSAGES.approved, counter: 'approved' };
  return {
    accept: true,
    approved: false,
    message: created ? HANDSHAKE_MESSAGES.registered : HANDSHAKE_MESSAGES.pending,
    counter: created ? 'registered' : 'pending',
  };
}

async function degraded(hs: HandshakePacket, session: ClientSession, deps: SessionDeps): Promise<HandshakeDecision> {
  const degradedAtRecovery = deps.storeHealth.recoveries;
  deps.log.warn({ botName: hs.botName, deviceId: hs.deviceId }, 'store degraded: handshake answered as pending');
  const verdict = await deps.hooks.onHandshake.promise(session.info());
  if (verdict) {
    return { accept: false, message: verdict.reason, code: 'BRIDGE_ERR_HANDSHAKE_REFUSED', detail: verdict.reason, counter: 'refused_by_plugin' };
  }
  return { accept: true, approved: false, message: HANDSHAKE_MESSAGES.pending, counter: 'store_degraded', degradedAtRecovery };
}

/** Rejects after `ms` (the work goes on in the background; its result still lands in the cache). */
function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BridgeError('BRIDGE_ERR_STORE_TIMEOUT', { operation: 'device registration', timeoutMs: ms })), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function refused(hs: HandshakePacket, status: ApprovalStatus): HandshakeDecision {
  return {
    accept: false,
    message: HANDSHAKE_MESSAGES.refused(status),
    code: 'BRIDGE_ERR_DEVICE_REFUSED',
    detail: `${hs.botName}/${hs.deviceId} is ${status}`,
    counter: status,
  };
}
