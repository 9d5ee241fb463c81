import { statfs } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import { reasonOf } from '../errors.js';
import type { CoreLogger } from '../logger.js';
import type { SystemSampleRow } from '../store/types.js';

/** Busy and total CPU time over all cores, in ms since boot. */
export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

/** What the host looks like now; injected in tests. */
export interface HostProbe {
  cpuTimes(): CpuTimes;
  memory(): { total: number; free: number };
  /** Used share of the filesystem holding `path`, in percent (df's Use%). */
  diskUsagePercent(path: string): Promise<number>;
}

export const hostProbe: HostProbe = {
  cpuTimes() {
    let busy = 0;
    let total = 0;
    for (const { times } of cpus()) {
      const all = times.user + times.nice + times.sys + times.irq + times.idle;
      total += all;
      busy += all - times.idle;
    }
    return { busy, total };
  },
  memory: () => ({ total: totalmem(), free: freemem() }),
  async diskUsagePercent(path) {
    const fs = await statfs(path);
    const used = fs.blocks - fs.bfree;
    const usable = used + fs.bavail;
    return usable === 0 ? 0 : (used / usable) * 100;
  },
};

export interface SystemSamplerOptions {
  readonly intervalMs: number;
  readonly serverName: string;
  readonly diskPath: string;
  readonly activeConnections: () => number;
  readonly queueDepth: () => number;
  /** Hands the sample to the store's bounded writer (a store outage never blocks sampling). */
  readonly write: (row: SystemSampleRow) => void;
  readonly log: CoreLogger;
  readonly probe?: HostProbe;
}

/** The first sample measures CPU over this long (the Python server's psutil interval=1). */
const FIRST_SAMPLE_DELAY_MS = 1_000;

const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * A kb_system_monitor row every `intervalMs` (5 minutes by default, like the Python server),
 * the first one a second after start. CPU is the busy share of all cores since the previous
 * sample, so a row describes its whole interval rather than one instant; memory and disk are
 * read at the moment of the sample.
 */
export class SystemSampler {
  private readonly probe: HostProbe;
  private timer: NodeJS.Timeout | undefined;
  private previousCpu: CpuTimes | undefined;
  private running = false;

  constructor(private readonly options: SystemSamplerOptions) {
    this.probe = options.probe ?? hostProbe;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.previousCpu = this.probe.cpuTimes();
    this.schedule(Math.min(FIRST_SAMPLE_DELAY_MS, this.options.intervalMs));
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now (the CPU share covers the time since the previous one). */
  async sample(now: Date = new Date()): Promise<SystemSampleRow> {
    const cpu = this.probe.cpuTimes();
    const before = this.previousCpu;
    this.previousCpu = cpu;
    const totalDelta = before === undefined ? 0 : cpu.total - before.total;
    const memory = this.probe.memory();
    let disk: number | null = null;
    try {
      disk = round2(await this.probe.diskUsagePercent(this.options.diskPath));
    } catch (error) {
      this.options.log.warn({ path: this.options.diskPath, err: reasonOf(error) }, 'disk usage unavailable');
    }
    const used = memory.total - memory.free;
    return {
      serverName: this.options.serverName,
      sampledAt: now,
      cpuPercent: totalDelta > 0 ? round2(((cpu.busy - before!.busy) / totalDelta) * 100) : null,
      memoryTotal: memory.total,
      memoryUsed: used,
      memoryPercent: memory.total > 0 ? round2((used / memory.total) * 100) : null,
      diskUsagePercent: disk,
      activeConnections: this.options.activeConnections(),
      messageQueueSize: this.options.queueDepth(),
    };
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    try {
      this.options.write(await this.sample());
    } catch (error) {
      this.options.log.warn({ err: reasonOf(error) }, 'system sample failed');
    }
    if (this.running) this.schedule(this.options.intervalMs);
  }
}
