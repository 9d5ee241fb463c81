import { bridgeConfigSchema } from '@botbridge/sdk/internal';
// Not part of core's public API: the bench reaches for the class Outbound itself uses.
import { EventBus } from '../../core/src/events/bridge-events.js';
import { SendGovernor } from '../../core/src/outbound/send-governor.js';

/**
 * What the send governor adds to every reply written to a socket (Outbound.write →
 * `SendGovernor.sent`: a device's token, its day count, the room's last send), with the default
 * settings and no proactive send waiting: the whole cost replies pay for the governor.
 *   node --import tsx bench/micro/governor-sent.ts [rooms] [devices] [calls]
 */
const [rooms = 1_000, devices = 100, calls = 2_000_000] = process.argv.slice(2).map(Number);
const governor = new SendGovernor({
  settings: bridgeConfigSchema.parse({}).replies.governor,
  replyGapMs: () => 1_000,
  deviceOf: () => null,
  park: () => ({ status: 'queued', traceId: 't' }),
  events: new EventBus(),
});
const roomKeys = Array.from({ length: rooms }, (_, i) => `${18445682959392711n + BigInt(i)}`);
const deviceIds = Array.from({ length: devices }, (_, i) => `device${i.toString(16).padStart(12, '0')}`);
const run = (n: number): number => {
  const began = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1) governor.sent('LOA.i', deviceIds[i % devices]!, roomKeys[i % rooms]!);
  return Number(process.hrtime.bigint() - began) / n;
};
run(calls / 10);
const samples = Array.from({ length: 5 }, () => run(calls / 5)).sort((a, b) => a - b);
console.log(JSON.stringify({ rooms, devices, calls, nsPerReply: Math.round(samples[2]!) }));
