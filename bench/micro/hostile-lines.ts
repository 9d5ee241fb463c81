import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { definePlugin } from '@botbridge/sdk';
import { createTestBridge, FakeBridgeClient } from '@botbridge/testing';
import { buildHandshake, encodeLine } from '@botbridge/testing/wire';

/**
 * Issue 13, finding 2, measured: honest phones' reply latency while handshaken attackers send
 * 1 MiB lines of nested arrays within the depth limit. Bounded: a quiet phase, then an attack
 * phase, each `--seconds` long, everything on 127.0.0.1, the bridge closed at the end.
 *   node --import tsx bench/micro/hostile-lines.ts [--phones 10] [--attackers 10] [--seconds 5] [--rounds 1] [--unprotected] [--attacker-cpus 1]
 * `--rounds N` alternates quiet and attacked phases N times in one process (the shared machine's
 * load drifts; interleaving makes the ratio fairer) and reports each round, the median ratio and
 * the load average before and after.
 * Each phone sends one message, waits for its reply, and paces itself to 20 a second.
 * `--unprotected` raises the new limits out of the way (array/token caps, rates, rejected-line
 * closing) to reproduce the issue's figures on the same machine. Attackers run in a child process
 * so their own CPU does not sit on the bridge's event loop; they reconnect whenever closed.
 * `--attacker-cpus LIST` runs that child under `taskset -c LIST` (Linux): with the bridge pinned to
 * the other core (`taskset -c 0 node …`), the attackers cannot take the bridge's CPU, as when
 * they sit on another host; on a 2-core machine that is the closest stand-in for one.
 */

interface AttackerData {
  readonly port: number;
  readonly attackers: number;
  readonly seconds: number;
}

function nestedArrayLine(bytes: number): Buffer {
  const unit = '[[[[[[[[[[[[[[]]]]]]]]]]]]]]';
  return Buffer.from(`[${Array(Math.floor(bytes / (unit.length + 1))).fill(unit).join(',')}]\n`);
}

async function runAttackers({ port, attackers, seconds }: AttackerData): Promise<void> {
  const line = nestedArrayLine(1_040_000);
  const until = Date.now() + seconds * 1000;
  let lines = 0;
  let connects = 0;
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      if (Date.now() > until) return resolve();
      connects += 1;
      const socket: Socket = connect(port, '127.0.0.1');
      const hs = buildHandshake({ clientType: 'MessengerBotR', botName: 'LOA.i', version: '3.2.1', deviceID: `attacker${i}`, deviceIP: '10.0.0.1', deviceInfo: 'x' }, 'full');
      const pump = () => {
        while (Date.now() < until && !socket.destroyed) {
          lines += 1;
          if (!socket.write(line)) return;
        }
        if (Date.now() >= until) socket.destroy();
      };
      socket.on('connect', () => {
        socket.write(encodeLine(hs));
        pump();
      });
      socket.on('drain', pump);
      socket.on('data', () => {});
      socket.on('error', () => {});
      socket.on('close', () => setTimeout(() => void one(i).then(resolve), 50));
    });
  await Promise.all(Array.from({ length: attackers }, (_, i) => one(i)));
  process.stdout.write(JSON.stringify({ lines, connects }));
}

const PACE_MS = 50;

function p(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function phase(phones: FakeBridgeClient[], seconds: number): Promise<{ p50: number; p99: number; replies: number; loopP99: number; cpuMsPerSecond: number }> {
  const latencies: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    phones.map(async (phone, i) => {
      let n = 0;
      while (performance.now() < until) {
        const started = performance.now();
        await phone.shouldReply(`p${i}.${n++}`, /^ok/, { timeoutMs: 30_000 });
        const took = performance.now() - started;
        latencies.push(took);
        // Paced like a busy chat room (PACE_MS per phone), so the figure is latency, not queueing.
        if (took < PACE_MS) await new Promise((r) => setTimeout(r, PACE_MS - took));
      }
    }),
  );
  loop.disable();
  const cpu = process.cpuUsage(cpuBefore);
  // The bridge process's CPU per second of the phase (phones and bridge share it; attackers do not).
  const cpuMsPerSecond = (cpu.user + cpu.system) / 1000 / seconds;
  return { p50: p(latencies, 0.5), p99: p(latencies, 0.99), replies: latencies.length, loopP99: loop.percentile(99) / 1e6, cpuMsPerSecond };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phones: { type: 'string', default: '10' },
      attackers: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '5' },
      unprotected: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '1' },
      'attacker-cpus': { type: 'string' },
    },
  });
  const loadBefore = loadavg();
  const seconds = Number(values.seconds);
  const open = { maxJsonArrayItems: 10_000_000, maxJsonTokens: 100_000_000, maxBytesPerSecond: 1e12, maxMessagesPerSecond: 1e9, maxRejectedLines: 1e9 };
  const ok = definePlugin({ name: 'ok', setup: (ctx) => ctx.onMessage(() => 'ok') });
  const t = await createTestBridge({
    plugins: [ok],
    autoApprove: true,
    config: { limits: { maxConnections: 1_000, ...(values.unprotected ? open : {}) }, log: { level: 'silent' } },
  });
  const phones: FakeBridgeClient[] = [];
  try {
    for (let i = 0; i < Number(values.phones); i++) {
      const phone = await FakeBridgeClient.connect({ port: t.port, deviceId: `phone${i}` });
      await phone.handshake;
      phones.push(phone);
    }
    await phase(phones, 1); // warm-up
    const rounds: Array<{ quiet: Awaited<ReturnType<typeof phase>>; attacked: Awaited<ReturnType<typeof phase>>; ratioP99: number; attack: { lines: number; connects: number } }> = [];
    for (let round = 0; round < Number(values.rounds); round++) {
      const quiet = await phase(phones, seconds);
      const data: AttackerData = { port: t.port, attackers: Number(values.attackers), seconds: seconds + 1 };
      const attackerArgs = [process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)];
      const cpus = values['attacker-cpus'];
      const [command, ...args] = cpus === undefined ? attackerArgs : ['taskset', '-c', cpus, ...attackerArgs];
      const child = spawn(command!, args, {
        env: { ...process.env, HOSTILE_ATTACKERS: JSON.stringify(data) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const attackDone = new Promise<{ lines: number; connects: number }>((resolve, reject) => {
        child.once('exit', () => resolve(JSON.parse(out || '{}') as { lines: number; connects: number }));
        child.once('error', reject);
      });
      await new Promise((r) => setTimeout(r, 500));
      const attacked = await phase(phones, seconds);
      const attack = await attackDone;
      rounds.push({ quiet, attacked, ratioP99: attacked.p99 / quiet.p99, attack });
    }
    const counters = t.bridge.stats().counters as Record<string, number>;
    const pick = Object.fromEntries(Object.entries(counters).filter(([k]) => /bad_lines|rejected_lines|throttled|disconnects/.test(k)));
    const ratios = rounds.map((r) => r.ratioP99).sort((a, b) => a - b);
    const round2 = (x: number) => Math.round(x * 10) / 10;
    console.log(
      JSON.stringify(
        {
          mode: values.unprotected ? 'unprotected' : 'protected',
          attackerCpus: values['attacker-cpus'] ?? 'any',
          loadavg: { before: loadBefore.map(round2), after: loadavg().map(round2) },
          rounds: rounds.map((r) => ({ quietP99: round2(r.quiet.p99), attackedP99: round2(r.attacked.p99), ratioP99: round2(r.ratioP99), quietLoopP99: round2(r.quiet.loopP99), attackedLoopP99: round2(r.attacked.loopP99), cpuMsPerSecond: [Math.round(r.quiet.cpuMsPerSecond), Math.round(r.attacked.cpuMsPerSecond)], replies: [r.quiet.replies, r.attacked.replies], attack: r.attack })),
          medianRatioP99: round2(ratios[Math.floor(ratios.length / 2)]!),
          counters: pick,
        },
        null,
        2,
      ),
    );
  } finally {
    await Promise.all(phones.map((phone) => phone.close()));
    await t.close();
  }
}

const attackerData = process.env.HOSTILE_ATTACKERS;
if (attackerData === undefined) await main();
else await runAttackers(JSON.parse(attackerData) as AttackerData);
