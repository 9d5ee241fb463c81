import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** Cluster mode refuses to run blind: no NATS at start, no start (docs/cluster.md, "Start-up order"). */
const root = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

describe('botbridge start --cluster without NATS', () => {
  it('refuses to start, exit 1, with the code and what to do', async () => {
    const failed = await run(process.execPath, ['core/bin/botbridge.js', 'start', '--config', 'test/fixtures/cluster.config.ts', '--store', 'sqlite::memory:', '--cluster', 'nats://127.0.0.1:1', '--node-id', 'lonely', '--no-http'], {
      cwd: root,
      env: { ...process.env, BB_TEST_CLUSTER_URL: '', BOTBRIDGE_STORE: '' },
      timeout: 20_000,
    }).then(() => null, (error: { code?: number; stdout?: string; stderr?: string }) => error);
    expect(failed?.code).toBe(1);
    const output = `${failed?.stdout ?? ''}${failed?.stderr ?? ''}`;
    expect(output).toContain('BRIDGE_ERR_CLUSTER_CONNECT');
    expect(output).toContain('nats-server -js');
    expect(output).not.toContain('botbridge listening');
  });
});

