import { describe, expect, it, vi } from 'vitest';
import { JsonBytePrescan } from '../../src/protocol/byte-prescan.js';
import { LineSplitter } from '../../src/protocol/line-splitter.js';
import { splitFrame } from '../../src/protocol/codec-select.js';
import * as safeJson from '../../src/protocol/safe-json.js';
import type { JsonLimits, JsonLineResult } from '../../src/protocol/safe-json.js';

const LIMITS: JsonLimits = { maxDepth: 6, maxKeys: 40, maxArrayItems: 12, maxTokens: 200 };

function run(chunks: Buffer[], limits: JsonLimits = LIMITS, limit = 1 << 21, prescanShortLinesAbove = 0) {
  const lines: string[] = [];
  const prescanned: boolean[] = [];
  const rejected: JsonLineResult[] = [];
  const errors: number[] = [];
  const splitter = new LineSplitter({
    limit,
    onLine: (line, clean) => {
      lines.push(line);
      prescanned.push(clean);
    },
    onError: (_code, params) => errors.push(params.bytes),
    prescan: new JsonBytePrescan(limits),
    onRejected: (r) => rejected.push(r),
    prescanShortLinesAbove,
  });
  for (const chunk of chunks) splitter.push(chunk);
  return { lines, prescanned, rejected, errors };
}

/** Every way of cutting `text` into two chunks. */
function everyCut(text: string): Buffer[][] {
  const bytes = Buffer.from(text, 'utf8');
  return Array.from({ length: bytes.length + 1 }, (_, i) => [bytes.subarray(0, i), bytes.subarray(i)]);
}

function stringPath(line: string, limits: JsonLimits = LIMITS): JsonLineResult {
  return safeJson.parseJsonLine(splitFrame(line).json, limits);
}

describe('JsonBytePrescan in the framer', () => {
  it('rejects a 1 MiB line of nested arrays as its chunks arrive, without decoding it or calling JSON.parse', () => {
    const unit = '[[[[[[[[[[[[[[]]]]]]]]]]]]]]';
    const line = Buffer.from(`[${Array(36_000).fill(unit).join(',')}]\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < line.length; i += 65_536) chunks.push(line.subarray(i, i + 65_536));
    const parse = vi.spyOn(JSON, 'parse');
    const toString = vi.spyOn(Buffer.prototype, 'toString');
    const out = run(chunks, { maxDepth: 16, maxKeys: 2_000 });
    expect(out.lines).toEqual([]);
    expect(out.rejected).toEqual([{ ok: false, code: 'BRIDGE_ERR_JSON_LIMITS', reason: 'an array of more than 1000 elements', params: { reason: 'an array of more than 1000 elements' } }]);
    expect(parse).not.toHaveBeenCalled();
    expect(toString).not.toHaveBeenCalled();
    parse.mockRestore();
    toString.mockRestore();
  });

  it('holds none of a rejected line while the rest of it arrives', () => {
    const rejected: JsonLineResult[] = [];
    const splitter = new LineSplitter({ limit: 1 << 20, onLine: () => {}, onError: () => {}, prescan: new JsonBytePrescan(LIMITS), onRejected: (r) => rejected.push(r) });
    splitter.push(Buffer.from('{"a":1,"b":['));
    expect(splitter.bufferedBytes).toBe(12);
    splitter.push(Buffer.from('[[[[[[[[1,2'));
    expect(splitter.bufferedBytes).toBe(0);
    splitter.push(Buffer.alloc(10_000, 0x20));
    expect(splitter.bufferedBytes).toBe(0);
    expect(rejected).toEqual([]);
    splitter.push(Buffer.from('\n{"ok":1}'));
    expect(rejected).toMatchObject([{ code: 'BRIDGE_ERR_JSON_LIMITS', reason: 'nesting deeper than 6' }]);
    expect(splitter.bufferedBytes).toBe(8);
  });

  it('still closes with BRIDGE_ERR_LINE_TOO_LONG when a rejected line goes on past the line limit', () => {
    const out = run([Buffer.from('[[[[[[[['), Buffer.alloc(100, 0x20), Buffer.from('\n')], LIMITS, 64);
    expect(out.rejected).toEqual([]);
    expect(out.errors).toHaveLength(1);
  });

  it('delivers lines after a rejected one, in order', () => {
    const out = run([Buffer.from('{"a":1}\n[[[[[[[[]]]]]]]]\n{"b":2}\n')]);
    expect(out.lines).toEqual(['{"a":1}', '{"b":2}']);
    expect(out.rejected.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['BRIDGE_ERR_JSON_LIMITS']);
  });

  it('reads an escaped quote split from its backslash run across chunks exactly like the string path', () => {
    for (const text of ['"x\\"[[[[[[[[[["', '"x\\\\"[[[[[[[[[[', '"x\\\\\\"[[[[[[[["', '{"k\\\\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14]}']) {
      const expected = stringPath(text);
      for (const chunks of everyCut(`${text}\n`)) {
        const out = run(chunks);
        const got = out.rejected.length > 0 ? out.rejected[0] : stringPath(out.lines[0]!);
        expect(got).toEqual(expected);
      }
    }
  });

  it('reads long strings (quote jumps) with escaped quotes and backslash runs exactly like the string path, cut anywhere', () => {
    const pad = 'x'.repeat(40);
    const texts = [
      `["${pad}\\"[[[[[[[[[[", 1]`,
      `["${pad}\\\\"[[[[[[[[[[`,
      `["${pad}\\\\\\"[[[[[[[[","가${pad}"]`,
      `{"${pad}\\u005f":1,"${'\\u005f'.repeat(2)}proto${'\\u005f'.repeat(2)}":2}`,
      `{"${'\\\\'.repeat(30)}":[1,2,3,4,5,6,7,8,9,10,11,12,13]}`,
      `{"${pad}${pad}\\x":[[[[[[[[[[1]]]]]]]]]]}`,
    ];
    for (const text of texts) {
      const expected = stringPath(text);
      for (const chunks of everyCut(`${text}\n`)) {
        const out = run(chunks);
        const got = out.rejected.length > 0 ? out.rejected[0] : safeJson.parseJsonLine(splitFrame(out.lines[0]!).json, LIMITS, out.prescanned[0]);
        expect(got, `${text} cut at ${chunks[0]!.length}`).toEqual(expected);
      }
    }
  });

  it('finds forbidden keys, plain or escaped, split anywhere', () => {
    for (const text of ['{"__proto__":[]}', '{"a":{"\\u005f_proto__":1}}', '{"constructor":{}}']) {
      for (const chunks of everyCut(`${text}\n`)) {
        expect(run(chunks).rejected).toEqual([stringPath(text)]);
        expect(stringPath(text)).toMatchObject({ code: 'BRIDGE_ERR_JSON_POISON' });
      }
    }
  });

  it('leaves a violation after the last `}` (a v3.3 raw tail) to the string path, which accepts the JSON part', () => {
    const text = '{"event":"message","data":{}} [[[[[[[[[[';
    const out = run([Buffer.from(`${text}\n`)]);
    expect(out.rejected).toEqual([]);
    expect(out.lines).toEqual([text]);
    // Not clean: the string prescan must run (here it passes the JSON part).
    expect(out.prescanned).toEqual([false]);
    expect(stringPath(text)).toMatchObject({ ok: true });
    // With a `}` after the violation, it is inside the JSON part and final at once.
    const inside = run([Buffer.from('{"a":[[[[[[[[[[1]]]]]]]]]]'), Buffer.from('}\n')]);
    expect(inside.rejected).toEqual([stringPath('{"a":[[[[[[[[[[1]]]]]]]]]]}')]);
  });

  it('leaves a key with a bad escape to the string path (its error names a character position)', () => {
    const text = '{"\\u005f_proto__\\x":1,' + '[[[[[[[[[[' + '}';
    const out = run([Buffer.from(`${text}\n`)]);
    expect(out.rejected).toEqual([]);
    expect(out.prescanned).toEqual([false]);
    expect(stringPath(out.lines[0]!)).toMatchObject({ code: 'BRIDGE_ERR_JSON_INVALID', reason: 'bad escape in key at position 1' });
  });

  it('marks a line it scanned whole and found within every limit as clean (the string prescan is then skipped)', () => {
    const out = run([Buffer.from('{"event":"analyze","data":{"msg":"가 }{ \\" [","ids":[1,2]}} tail\n{"a":[1]}\n')]);
    expect(out.prescanned).toEqual([true, true]);
    expect(out.lines.map((line) => safeJson.parseJsonLine(splitFrame(line).json, LIMITS, true))).toEqual(out.lines.map((line) => stringPath(line)));
  });

  it('leaves a short line read whole in one chunk to the string prescan, and still scans one that spans chunks', () => {
    const hostile = '[[[[[[[[]]]]]]]]';
    const whole = run([Buffer.from(`{"a":1}\n${hostile}\n`)], LIMITS, 1 << 21, 64);
    expect(whole.rejected).toEqual([]);
    expect(whole.lines).toEqual(['{"a":1}', hostile]);
    expect(whole.prescanned).toEqual([false, false]);
    // The string prescan then gives what the byte scan would have.
    expect(stringPath(hostile)).toEqual(run([Buffer.from(`${hostile}\n`)]).rejected[0]);
    const split = run([Buffer.from('[[[['), Buffer.from('[[[[]]]]]]]]\n')], LIMITS, 1 << 21, 64);
    expect(split.lines).toEqual([]);
    expect(split.rejected).toEqual([stringPath(hostile)]);
    const long = run([Buffer.from(`[${'1,'.repeat(40)}1]\n`)], LIMITS, 1 << 21, 64);
    expect(long.rejected).toMatchObject([{ code: 'BRIDGE_ERR_JSON_LIMITS' }]);
  });
});
