import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { FakeBridgeClient } from '@botbridge/testing';
import { createTestDatabase } from '@botbridge/core/test-support';

/**
 * Replies/s and CPU per reply of `botbridge start` as one cluster node (`--workers 1`) and as
 * `--workers 2` on the same machine, in one run, alternated (docs/benchmarks.md, "Cluster:
 * workers"). The server is bench/fault/fault.config.ts (echo at once: FAULT_DELAY_MS=0, chat
 * log on, admin HTTP on) on a fresh MariaDB database per run and NATS; the load is closed-loop
 * fake phones (the real protocol) in this process, whose own CPU is reported as the generator's
 * share. Server CPU is the sum of utime + stime of the supervisor and its workers (/proc).
 *
 *   node --import tsx bench/cluster/workers-bench.ts [--phones 40] [--window 4] [--seconds 15] [--rounds 2]
 */
const { values } = parseArgs({
  options: {
    phones: { type: 'string', default: '40' },
    window: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
    nats: { type: 'string', default: process.env.BOTBRIDGE_TEST_NATS ?? 'nats://127.0.0.1:4222' },
    store: { type: 'string', default: process.env.BOTBRIDGE_TEST_STORE ?? 'mysql://root@127.0.0.1:3306/botbridge_bench' },
  },
});
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'core/bin/botbridge.js');
const TICK = 100; // CLK_TCK on Linux

interface Figures {
  workers: number; replies: number; seconds: number; repliesPerSec: number; serverCpuS: number; usPerReply: number; generatorCpuS: number; generatorShare: number;
  /** CPU seconds of the window spent by the database and NATS servers, and the whole machine (/proc/stat). */
  mariadbCpuS: number; natsCpuS: number; machineCpuS: number; machineBusy: number;
}

function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / TICK;
}

/** PIDs of processes whose command name is `comm` (mariadbd, nats-server: their CPU is part of every reply). */
function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry));
    } catch {
      // exited
    }
  }
  return out;
}

/** Busy and total CPU seconds of the whole machine since boot (the first line of /proc/stat). */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3]! + (fields[4] ?? 0);
  return { busy: (total - idle) / TICK, total: total / TICK };
}

async function startService(workers: number, storeUrl: string, prefix: string): Promise<{ child: ChildProcess; port: number; pids: number[] }> {
  const child = spawn(process.execPath, [BIN, 'start', '--config', join(ROOT, 'bench/fault/fault.config.ts'), '--store', storeUrl, '--port', '0', '--http-port', '0', '--cluster', values.nats!, '--node-id', `bench${workers}`, '--workers', String(workers)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true,
    env: { ...process.env, FAULT_DELAY_MS: '0', FAULT_CLUSTER_URL: values.nats!, FAULT_CLUSTER_PREFIX: prefix, FAULT_CONCURRENCY: '64' },
  });
  const pids = [child.pid!];
  let listening = 0;
  let port = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('service did not listen in 60 s')), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (entry.msg === 'worker started') pids.push(entry.pid as number);
      if (entry.msg === 'botbridge listening') {
        port = entry.port as number;
        listening += 1;
        if (listening === workers) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`service exited ${code}`)));
  });
  // --workers 1 runs the node in this very process (no supervisor, no fork).
  return { child, port, pids };
}

async function stopService(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function measure(workers: number): Promise<Figures> {
  const database = await createTestDatabase(values.store!);
  const prefix = `bbb_${randomUUID().slice(0, 8)}`;
  const service = await startService(workers, database.url, prefix);
  const phones: FakeBridgeClient[] = [];
  try {
    for (let i = 0; i < Number(values.phones); i += 10) {
      phones.push(...(await Promise.all(Array.from({ length: Math.min(10, Number(values.phones) - i) }, (_, k) =>
        FakeBridgeClient.connect({ port: service.port, botName: 'fault-bot', deviceId: `bench-${workers}-${i + k}` })))));
    }
    await Promise.all(phones.map((p) => p.handshake));
    let replies = 0;
    let running = true;
    let seq = 0;
    const loop = async (phone: FakeBridgeClient, lane: number) => {
      while (running) {
        phone.analyze({ text: 'x', logId: String(9_000_000_000 + seq++), channelId: String(1_000 + lane), room: `r${lane}` });
        try {
          await phone.nextReply(10_000);
        } catch {
          return;
        }
        replies += 1;
      }
    };
    // Warm-up, then the measured window.
    const loops = phones.flatMap((p, i) => Array.from({ length: Number(values.window) }, (_, w) => loop(p, i * 10 + w)));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const r0 = replies;
    const s0 = cpuSeconds(service.pids);
    const db = pidsNamed('mariadbd');
    const nats = pidsNamed('nats-server');
    const d0 = cpuSeconds(db);
    const n0 = cpuSeconds(nats);
    const m0 = machineCpu();
    const g0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 1_000));
    const seconds = (performance.now() - t0) / 1_000;
    const n = replies - r0;
    const serverCpuS = cpuSeconds(service.pids) - s0;
    const mariadbCpuS = cpuSeconds(db) - d0;
    const natsCpuS = cpuSeconds(nats) - n0;
    const m1 = machineCpu();
    const g = process.cpuUsage(g0);
    running = false;
    const generatorCpuS = (g.user + g.system) / 1e6;
    await Promise.race([Promise.all(loops), new Promise((resolve) => setTimeout(resolve, 11_000))]);
    return {
      workers, replies: n, seconds: Math.round(seconds * 10) / 10, repliesPerSec: Math.round(n / seconds), serverCpuS: Math.round(serverCpuS * 100) / 100,
      usPerReply: Math.round((serverCpuS * 1e6) / n), generatorCpuS: Math.round(generatorCpuS * 100) / 100,
      generatorShare: Math.round((generatorCpuS / (generatorCpuS + serverCpuS)) * 100) / 100,
      mariadbCpuS: Math.round(mariadbCpuS * 100) / 100, natsCpuS: Math.round(natsCpuS * 100) / 100,
      machineCpuS: Math.round((m1.busy - m0.busy) * 100) / 100, machineBusy: Math.round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 100) / 100,
    };
  } finally {
    await Promise.all(phones.map((p) => p.close()));
    await stopService(service.child);
    await database.drop();
  }
}

const started = new Date().toISOString();
const load = loadavg().map((l) => Math.round(l * 10) / 10);
const out: Figures[] = [];
for (let round = 0; round < Number(values.rounds); round += 1) {
  for (const workers of round % 2 === 0 ? [1, 2] : [2, 1]) {
    const f = await measure(workers);
    out.push(f);
    console.error(`workers ${workers}: ${f.repliesPerSec} replies/s, ${f.usPerReply} µs server CPU/reply, generator ${f.generatorCpuS} s CPU (${Math.round(f.generatorShare * 100)}%), mariadb ${f.mariadbCpuS} s, nats ${f.natsCpuS} s, machine ${Math.round(f.machineBusy * 100)}% busy`);
  }
}
console.log(JSON.stringify({ started, cores: cpus().length, loadAverageAtStart: load, phones: Number(values.phones), window: Number(values.window), seconds: Number(values.seconds), runs: out }, null, 2));
