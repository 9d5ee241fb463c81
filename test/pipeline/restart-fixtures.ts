import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { definePlugin } from '@botbridge/sdk';
import { createTestDatabase, supportsTestDatabase } from '@botbridge/core/test-support';

/**
 * What the restart tests share (journal, replay order, outbox): cleanups run after each test in
 * reverse order, a store that two bridges use in turn (a SQLite file, or a throwaway MariaDB
 * database with BOTBRIDGE_TEST_STORE), and the two plugins they restart around.
 */
export function useCleanups(): (fn: () => Promise<unknown>) => void {
  let cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    cleanups = [];
  });
  return (fn) => void cleanups.push(fn);
}

/** A store URL shared by the bridges of one test; removed (or dropped) by `cleanup`. */
export async function sharedStoreUrl(cleanup: (fn: () => Promise<unknown>) => void, prefix: string): Promise<string> {
  const fromEnv = process.env.BOTBRIDGE_TEST_STORE;
  if (fromEnv !== undefined && supportsTestDatabase(fromEnv)) {
    const database = await createTestDatabase(fromEnv);
    cleanup(() => database.drop());
    return database.url;
  }
  const dir = await mkdtemp(join(tmpdir(), `botbridge-${prefix}-`));
  cleanup(() => rm(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'bridge.db')}`;
}

/** Answers `echo: <text>`. */
export const echo = definePlugin({
  name: 'echo',
  setup(ctx) {
    ctx.onMessage(({ message }) => `echo: ${message.text}`);
  },
});

/** Holds every message until its job is aborted, and never replies. */
export const stuck = definePlugin({
  name: 'stuck',
  setup(ctx) {
    ctx.onMessage(async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
    });
  },
});
