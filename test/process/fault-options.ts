import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunOptions, ScenarioResult } from '../../bench/fault/scenario.js';

/**
 * Options for a CI-sized fault scenario (bench/fault/): a scratch directory, removed afterwards
 * unless FAULT_KEEP is set (its server logs and phone histories are the evidence); progress
 * lines and figures printed when the scenario did not pass.
 */
export function faultRun(name: string): { options: RunOptions; finish: (result: ScenarioResult | undefined) => void } {
  const workDir = mkdtempSync(join(tmpdir(), `botbridge-${name}-`));
  const lines: string[] = [];
  return {
    options: { quick: true, workDir, log: (line) => lines.push(line) },
    finish: (result) => {
      if (result?.verdict !== "pass" || process.env.FAULT_KEEP) console.log(`${name}:\n${lines.join('\n')}\n${JSON.stringify(result?.figures ?? null)}`);
      if (process.env.FAULT_KEEP) console.log(`${name}: evidence kept in ${workDir}`);
      else rmSync(workDir, { recursive: true, force: true });
    },
  };
}
