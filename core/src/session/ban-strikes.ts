import type { BanEntry } from './ban-list.js';
import type { SessionDeps } from './session-deps.js';

type StrikeDeps = Pick<SessionDeps, 'auth' | 'counters' | 'log'>;

/**
 * Records a failure against a device (when known) and its address; returns the device's ban if
 * this strike imposed one. Bans are counted (`bans{kind}`) and logged once, when imposed.
 */
export function strikeFailure(deps: StrikeDeps, device: { botName: string; deviceId: string } | null, address: string, reason: string): BanEntry | undefined {
  const now = Date.now();
  const { bans } = deps.auth;
  if (!bans.enabled) return undefined;
  const addressBan = bans.strike('address', address, reason, now);
  if (addressBan !== undefined) imposed(deps, addressBan);
  if (device === null || device.botName === '') return undefined;
  const deviceBan = bans.strike('device', `${device.botName}/${device.deviceId}`, reason, now);
  if (deviceBan !== undefined) imposed(deps, deviceBan);
  return deviceBan;
}

/**
 * The ban check of a handshake, device first: a banned device is refused; every connect is a
 * strike (reconnect flapping); an address ban refuses only devices that are not approved, so an
 * approved phone behind a banned NAT address still gets in (and marks the address as trusted).
 */
export function handshakeBan(deps: StrikeDeps, botName: string, deviceId: string, address: string, approved: boolean): BanEntry | undefined {
  const { bans } = deps.auth;
  if (!bans.enabled) return undefined;
  const now = Date.now();
  const subject = `${botName}/${deviceId}`;
  const existing = bans.banned('device', subject, now);
  if (existing !== undefined) return refused(deps, existing);
  const flapping = bans.strike('device', subject, 'connect', now);
  if (flapping !== undefined) {
    imposed(deps, flapping);
    return refused(deps, flapping);
  }
  if (approved) {
    bans.trust(address, now);
    return undefined;
  }
  const addressBan = bans.banned('address', address, now);
  return addressBan === undefined ? undefined : refused(deps, addressBan);
}

export function banParams(ban: BanEntry): Record<string, unknown> {
  return { kind: ban.kind, subject: ban.subject, remainingS: Math.max(0, Math.ceil((ban.until - Date.now()) / 1000)) };
}

function imposed(deps: StrikeDeps, ban: BanEntry): void {
  deps.counters.inc('bans', ban.kind);
  deps.log.warn({ kind: ban.kind, subject: ban.subject, reason: ban.reason, until: new Date(ban.until).toISOString(), code: 'BRIDGE_ERR_BANNED' }, 'temporary ban imposed');
}

function refused(deps: StrikeDeps, ban: BanEntry): BanEntry {
  deps.counters.inc('bans_refused', ban.kind);
  return ban;
}
