import { describe, expect, it } from 'vitest';
import { parseWorkerCount, planWorkers } from '../../src/workers/worker-plan.js';
import { withoutPerWorker } from '../../src/workers/run-workers.js';

/** `botbridge start --workers`: the count, the workers' ids and admin ports, and each worker's command line. */
describe('--workers plan', () => {
  it('parses a count or auto (one per core), and refuses anything else', () => {
    expect(parseWorkerCount('3')).toBe(3);
    expect(parseWorkerCount('auto', 2)).toBe(2);
    for (const bad of ['0', '-1', 'two', '1.5', '999']) expect(() => parseWorkerCount(bad)).toThrow(/--workers/);
  });

  it('names workers <base>-w<i> and gives each admin server its own port (0 stays shared)', () => {
    expect(planWorkers(2, 'shop', 8080)).toEqual([
      { index: 0, nodeId: 'shop-w0', httpPort: 8080 },
      { index: 1, nodeId: 'shop-w1', httpPort: 8081 },
    ]);
    expect(planWorkers(2, undefined, 0, 4242).map((s) => [s.nodeId.endsWith('-4242-w1') || s.nodeId.endsWith('-4242-w0'), s.httpPort])).toEqual([[true, null], [true, null]]);
  });

  it('drops the per-worker options from the command line, in both forms', () => {
    expect(withoutPerWorker(['start', '--workers', '2', '--port', '1485', '--node-id=a', '--http-port', '9000', '--cluster', 'nats://x'])).toEqual(['start', '--port', '1485', '--cluster', 'nats://x']);
  });
});
