import type { BenchIdentity } from '../protocol/wire.js';

/**
 * Connection `index` of a scenario as a phone: its own bot, device and room, the way each
 * operator's phone runs its own bot. Ids look like the script's: a 16-hex-digit device id and a
 * decimal channel id beyond 2^32.
 */
export function identityFor(scope: string, index: number): BenchIdentity {
  return {
    botName: `${scope}-bot-${index}`,
    deviceId: index.toString(16).padStart(16, '0'),
    channelId: String(18_400_000_000_000_000n + BigInt(index)),
    room: `벤치방 ${index}`,
  };
}

/** Churn lanes: one bot, one device per lane, reconnecting again and again (Wi-Fi ↔ LTE). */
export function laneIdentity(lane: number): BenchIdentity {
  return { botName: 'churn-bot', deviceId: `c${lane.toString(16).padStart(15, '0')}`, channelId: '18400000000000000', room: '벤치방' };
}
