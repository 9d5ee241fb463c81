import { afterEach, describe, expect, it, vi } from 'vitest';
import { LineSplitter, type LineTooLong } from '../../src/protocol/line-splitter.js';

function collect(limit: number) {
  const lines: string[] = [];
  const errors: LineTooLong[] = [];
  const splitter = new LineSplitter({
    limit,
    onLine: (line) => lines.push(line),
    onError: (_code, params) => errors.push(params),
  });
  return { splitter, lines, errors };
}

const b = (s: string) => Buffer.from(s, 'utf8');

describe('LineSplitter', () => {
  afterEach(() => vi.restoreAllMocks());

  it('joins a line split across chunks, including inside a multi-byte character', () => {
    const { splitter, lines } = collect(1024);
    const bytes = b('{"room":"테스트방"}\n');
    // Split in the middle of the 3-byte encoding of '테'.
    const cut = bytes.indexOf(0xed) + 1;
    splitter.push(bytes.subarray(0, 3));
    splitter.push(bytes.subarray(3, cut));
    splitter.push(bytes.subarray(cut));
    expect(lines).toEqual(['{"room":"테스트방"}']);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('delivers many lines of one chunk in order, without concatenating buffers', () => {
    const { splitter, lines } = collect(1024);
    const concat = vi.spyOn(Buffer, 'concat');
    const input = Array.from({ length: 200 }, (_, i) => `{"n":${i}}`);
    splitter.push(b(`${input.join('\n')}\n`));
    expect(lines).toEqual(input);
    expect(concat).not.toHaveBeenCalled();
  });

  it('strips the \\r of \\r\\n, also when \\r and \\n arrive in different chunks', () => {
    const { splitter, lines } = collect(1024);
    splitter.push(b('a\r\nb\r'));
    splitter.push(b('\nc\n'));
    expect(lines).toEqual(['a', 'b', 'c']);
  });

  it('skips empty lines', () => {
    const { splitter, lines } = collect(1024);
    splitter.push(b('\n\r\nx\n\n\ny\n'));
    expect(lines).toEqual(['x', 'y']);
  });

  it('accepts a line of exactly the limit including its \\n', () => {
    const { splitter, lines, errors } = collect(64);
    splitter.push(b(`${'a'.repeat(63)}\n`));
    expect(errors).toEqual([]);
    expect(lines).toEqual(['a'.repeat(63)]);
  });

  it('accepts an exact-limit line whose bytes arrive across chunks', () => {
    const { splitter, lines, errors } = collect(64);
    splitter.push(b('a'.repeat(40)));
    splitter.push(b('a'.repeat(23)));
    splitter.push(b('\n'));
    expect(errors).toEqual([]);
    expect(lines).toEqual(['a'.repeat(63)]);
  });

  it('rejects a line of limit + 1 bytes and stops delivering', () => {
    const { splitter, lines, errors } = collect(64);
    splitter.push(b(`ok\n${'a'.repeat(64)}\nlater\n`));
    expect(lines).toEqual(['ok']);
    expect(errors).toEqual([{ limit: 64, bytes: 65 }]);
    splitter.push(b('more\n'));
    expect(lines).toEqual(['ok']);
    expect(splitter.isFailed).toBe(true);
  });

  it('rejects a huge partial line as soon as it reaches the limit, holding at most limit + one chunk', () => {
    const limit = 16 * 1024;
    const { splitter, errors } = collect(limit);
    const chunk = Buffer.alloc(1000, 0x61);
    let pushed = 0;
    let maxBuffered = 0;
    while (errors.length === 0 && pushed < 1_000) {
      splitter.push(chunk);
      pushed += 1;
      maxBuffered = Math.max(maxBuffered, splitter.bufferedBytes);
    }
    // 17 chunks = 17,000 bytes is the first partial that can no longer end within 16,384 bytes.
    expect(pushed).toBe(17);
    expect(errors[0]).toEqual({ limit, bytes: 17_000 });
    expect(maxBuffered).toBeLessThan(limit);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('rejects a partial that can only end one byte over the limit', () => {
    const { splitter, errors } = collect(64);
    splitter.push(b('a'.repeat(63)));
    expect(errors).toEqual([]);
    splitter.push(b('a'));
    expect(errors).toEqual([{ limit: 64, bytes: 64 }]);
  });

  it('holds the rest of a chunk while paused and delivers it on resume, once and in order', () => {
    const seen: string[] = [];
    const paused = new LineSplitter({
      limit: 1024,
      onLine: (line) => {
        seen.push(line);
        if (line === '2') paused.pause();
      },
      onError: () => {},
    });
    paused.push(b('1\n2\n3\n4'));
    expect(seen).toEqual(['1', '2']);
    expect(paused.bufferedBytes).toBe(3);
    paused.push(b('\n5\n'));
    expect(seen).toEqual(['1', '2']);
    paused.resume();
    expect(seen).toEqual(['1', '2', '3', '4', '5']);
    expect(paused.bufferedBytes).toBe(0);
  });

  it('applies a limit raised while paused to the lines still held', () => {
    const seen: string[] = [];
    const errors: LineTooLong[] = [];
    const splitter = new LineSplitter({
      limit: 32,
      onLine: (line) => {
        seen.push(line);
        if (line === 'hello') splitter.pause();
      },
      onError: (_c, p) => errors.push(p),
    });
    const big = 'b'.repeat(100);
    splitter.push(b(`hello\n${big}\n`));
    splitter.setLimit(1024);
    splitter.resume();
    expect(errors).toEqual([]);
    expect(seen).toEqual(['hello', big]);
  });

  it('uses a limit raised inside onLine for the rest of the same chunk', () => {
    const seen: string[] = [];
    const splitter: LineSplitter = new LineSplitter({
      limit: 32,
      onLine: (line) => {
        seen.push(line);
        splitter.setLimit(1024);
      },
      onError: () => {},
    });
    splitter.push(b(`hs\n${'c'.repeat(200)}\n`));
    expect(seen).toEqual(['hs', 'c'.repeat(200)]);
  });

  it('delivers nothing after stop()', () => {
    const { splitter, lines } = collect(1024);
    splitter.push(b('partial'));
    splitter.stop();
    splitter.push(b('\nnext\n'));
    expect(lines).toEqual([]);
    expect(splitter.bufferedBytes).toBe(0);
  });
});
