import { createLogger } from '@botbridge/core';

/**
 * Micro-benchmark behind the per-message allocation proposals in docs/benchmarks.md: what the
 * objects botbridge creates for every message cost in isolation, on this machine.
 *   node --import tsx bench/micro/per-message-objects.ts
 */
const log = createLogger({ level: 'info', pretty: false });
const bindings = { botName: 'load-bot-1', room: '벤치방 1', traceId: 'a1b2c3d4-1k' };

function measure(name: string, fn: (i: number) => unknown): void {
  for (let i = 0; i < 20_000; i += 1) fn(i);
  const n = 200_000;
  let sink: unknown;
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1) sink = fn(i);
  process.stdout.write(`${name}: ${(((performance.now() - t0) * 1000) / n).toFixed(2)} µs${sink === undefined ? '' : ''}\n`);
}

measure('pino child logger (core logger, redaction on)', () => log.child(bindings));
measure('pino child of a child (the commands plugin\'s per-command logger)', () => log.child(bindings).child({ command: 'echo' }));
measure('new AbortController() + signal', () => new AbortController().signal);
measure('AbortSignal add + remove abort listener', (() => {
  const signal = new AbortController().signal;
  return () => {
    const onAbort = () => undefined;
    signal.addEventListener('abort', onAbort, { once: true });
    signal.removeEventListener('abort', onAbort);
  };
})());
measure('setTimeout + clearTimeout (a per-job timer)', () => clearTimeout(setTimeout(() => undefined, 300_000)));
