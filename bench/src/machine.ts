import { cpus, release, totalmem, type as osType } from 'node:os';
import type { MachineInfo } from './report/results-types.js';

export function machineInfo(date: Date): MachineInfo {
  const cores = cpus();
  return {
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    totalMemoryMiB: Math.round(totalmem() / 1_048_576),
    os: `${osType()} ${release()}`,
    node: process.version,
    date: date.toISOString(),
  };
}
