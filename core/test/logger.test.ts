import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsyncLogDestination, flushLogger, LOG_CHUNK_BYTES, LOG_FLUSH_DELAY_MS } from '../src/logger.js';

const root = new URL('../../', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { msg: string; i?: number });

describe('AsyncLogDestination', () => {
  let dir: string;
  let file: string;
  let fd: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'botbridge-log-'));
    file = join(dir, 'out.log');
    fd = openSync(file, 'w');
  });
  afterEach(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not write on the log call, and writes a quiet line within the flush delay', async () => {
    const log = pino({ base: null }, new AsyncLogDestination(fd));
    log.info('one');
    expect(readFileSync(file, 'utf8')).toBe('');
    await sleep(LOG_FLUSH_DELAY_MS * 3);
    expect(lines(file).map((l) => l.msg)).toEqual(['one']);
  });

  it('flush() calls back once every line logged before it is in the file, in order', async () => {
    const log = pino({ base: null }, new AsyncLogDestination(fd));
    const count = Math.ceil((LOG_CHUNK_BYTES * 20) / 40);
    for (let i = 0; i < count; i += 1) log.info({ i }, 'line');
    // Chunks were handed over while logging: a write is in flight now.
    log.info('last');
    await flushLogger(log);
    const written = lines(file);
    expect(written).toHaveLength(count + 1);
    expect(written.slice(0, count).map((l) => l.i)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(written[count]!.msg).toBe('last');
  });

  it('flushSync() writes everything before returning', () => {
    const destination = new AsyncLogDestination(fd);
    const log = pino({ base: null }, destination);
    for (let i = 0; i < 500; i += 1) log.info({ i }, 'line');
    destination.flushSync();
    expect(lines(file)).toHaveLength(500);
  });

  it('flushLogger resolves at once for a destination without flush', async () => {
    const log = pino({ base: null }, { write: () => {} });
    await flushLogger(log, 60_000);
  });

  // A process that ends without Bridge.close(): process.exit, an uncaught exception, or the event
  // loop simply running dry with lines still buffered (the flush timer does not keep it alive).
  it.each([
    ['process.exit(3)', 'process.exit(3);', 3],
    ['an uncaught exception', "setImmediate(() => { throw new Error('boom'); });", 1],
    ['an empty event loop', '', 0],
  ])('every line logged before %s is in the file', async (_name, ending, code) => {
    const script = join(dir, 'exit.mjs');
    writeFileSync(script, [
      `import { createLogger } from ${JSON.stringify(join(root, 'core/src/logger.ts'))};`,
      "const log = createLogger({ level: 'info', pretty: false });",
      "for (let i = 0; i < 3000; i += 1) log.info({ i }, 'line');",
      "log.info('last line');",
      ending,
    ].join('\n'));
    const out = join(dir, 'child.log');
    const outFd = openSync(out, 'w');
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', outFd, 'ignore'] });
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    closeSync(outFd);
    expect(exitCode).toBe(code);
    const written = lines(out);
    expect(written).toHaveLength(3001);
    expect(written.at(-1)!.msg).toBe('last line');
  });
});
