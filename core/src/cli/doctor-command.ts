import type { Command } from 'commander';
import type { BridgeSettings } from '@botbridge/sdk';
import { reasonOf } from '../errors.js';
import { EXIT_FAILURE } from './cli-io.js';
import type { CliIo } from './cli-io.js';
import { botbridgeAnswers, checkAdminToken, checkNats, checkPort, checkStore } from './doctor-checks.js';
import type { CheckResult } from './doctor-checks.js';

/**
 * `botbridge doctor`: checks what `botbridge start` needs, in the order a start fails on it
 * (config, store and schema, ports, NATS when configured, the admin token, the scripts' versions),
 * prints each as ok/warn/fail with what to fix, and exits 1 when any check failed.
 */

async function runChecks(options: { config?: string }): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let settings: BridgeSettings | undefined;
  try {
    const { loadBridgeConfig } = await import('../config/load-config.js');
    const loaded = await loadBridgeConfig(options.config);
    // Plugin configs are checked when the bridge starts; doctor checks them the same way.
    const { validateEntries } = await import('../plugins/plugin-host.js');
    validateEntries(loaded.plugins);
    settings = loaded.settings;
    const plugins = loaded.plugins.map((p) => ('plugin' in p ? p.plugin.name : p.name));
    results.push(loaded.file === null
      ? { check: 'config', status: 'warn', detail: `no bridge.config.ts in ${process.cwd()}: built-in defaults, no plugins`, fix: 'run doctor in the folder of your bridge.config.ts, or pass --config FILE (botbridge start refuses to start here)' }
      : { check: 'config', status: 'ok', detail: `${loaded.file}: valid, ${plugins.length} plugin(s)${plugins.length > 0 ? ` (${plugins.join(', ')})` : ''}` });
  } catch (error) {
    results.push({ check: 'config', status: 'fail', detail: reasonOf(error), fix: 'fix what the message names (docs/configuration.md); every problem is listed' });
  }
  if (settings === undefined) {
    for (const check of ['store', 'ports', 'token']) results.push({ check, status: 'skip', detail: 'needs a valid config' });
    const nats = await checkNats(undefined);
    if (nats) results.push(nats);
    return results;
  }
  results.push(...(await checkStore(settings)));
  const http = settings.http;
  const onHttp = () => (http.enabled && http.port !== 0 ? botbridgeAnswers(http.host, http.port) : Promise.resolve(false));
  results.push(await checkPort('bot port', settings.listen.host, settings.listen.port, { flag: '--port', key: 'listen.port', env: 'BOTBRIDGE_PORT', httpDisabled: !http.enabled }, onHttp));
  if (http.enabled) results.push(await checkPort('http port', http.host, http.port, { flag: '--http-port', key: 'http.port', env: 'BOTBRIDGE_HTTP_PORT' }, onHttp));
  const nats = await checkNats(settings);
  if (nats) results.push(nats);
  results.push(checkAdminToken(settings));
  return results;
}

function format(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.status.padEnd(4)}  ${r.check.padEnd(width)}  ${r.detail}`);
    if (r.fix !== undefined) lines.push(`${' '.repeat(6 + width)}  fix: ${r.fix}`);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  lines.push('', failed > 0 ? `${failed} check(s) failed, ${warned} warning(s)` : warned > 0 ? `no failures, ${warned} warning(s)` : 'all checks passed', '');
  return lines.join('\n');
}

export function addDoctorCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program.command('doctor')
    .description('check the config, store and schema, ports, NATS, admin token; print what to fix (exit 1 on a failure)')
    .option('--config <file>', 'bridge config file (default: $BOTBRIDGE_CONFIG, else ./bridge.config.ts)')
    .option('--json', 'print the results as JSON')
    .action(async (options: { config?: string; json?: boolean }) => {
      const results = await runChecks(options);
      io.out(options.json === true ? `${JSON.stringify(results, null, 2)}\n` : format(results));
      if (results.some((r) => r.status === 'fail')) setExitCode(EXIT_FAILURE);
    });
}
