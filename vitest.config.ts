import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/test/**/*.test.ts', 'sdk/test/**/*.test.ts', 'testing/test/**/*.test.ts', 'plugins/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/artifacts/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets and SQLite files: forks isolate native handles between files.
    pool: 'forks',
    // The suite waits on sockets, processes and databases far more than it computes: at least two
    // workers even on 2 cores (vitest's default, cores - 1, is one there: CI took 15.6 min).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
