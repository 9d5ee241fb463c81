import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/protocol/line-splitter.js';
import { parseJsonLine, type JsonLimits, type JsonLineResult } from '../../src/protocol/safe-json.js';
import { JsonBytePrescan } from '../../src/protocol/byte-prescan.js';
import { splitFrame } from '../../src/protocol/codec-select.js';
import { v32Codec } from '../../src/protocol/codec.js';
import { buildAnalyzeData, encodeLine } from '@botbridge/testing/wire';

/**
 * Property-based tests of the parsing front (issue 13): the framer's output does not depend on
 * how the stream is chunked, the guarded JSON parser never throws and never hands JSON.parse
 * anything over its limits, and a packet survives encode → frame → parse → decode.
 * A few seconds inside `npm test`; `npm run fuzz` sets FUZZ_RUNS for a long run.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000);
const TIMEOUT = Math.max(20_000, RUNS * 20);
const LIMITS: Required<JsonLimits> = { maxDepth: 6, maxKeys: 40, maxArrayItems: 12, maxTokens: 200 };

/** Splits `bytes` at the given cut points (any order, duplicates allowed). */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

function frame(chunks: Buffer[], limit: number): { lines: string[]; error: boolean } {
  const lines: string[] = [];
  let error = false;
  const splitter = new LineSplitter({ limit, onLine: (line) => lines.push(line), onError: () => (error = true) });
  for (const chunk of chunks) splitter.push(chunk);
  return { lines, error };
}

function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

function keysOf(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + keysOf(v), 0);
  if (value !== null && typeof value === 'object') return Object.entries(value).reduce((n, [, v]) => n + 1 + keysOf(v), 0);
  return 0;
}

function longestArray(value: unknown): number {
  if (Array.isArray(value)) return Math.max(value.length, ...value.map(longestArray));
  if (value !== null && typeof value === 'object') return Math.max(0, ...Object.values(value).map(longestArray));
  return 0;
}

/** Strings that look like JSON more often than random text does. */
const jsonish = fc.oneof(
  fc.json({ maxDepth: 8 }),
  fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ':', ',', '1', 'a', ' ', '_', 'u') , maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
);

describe('fuzz: framer', () => {
  it('delivers the same lines however the stream is chunked', { timeout: TIMEOUT }, () => {
    const line = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' '));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), fc.constantFrom('\n', '\r\n'), (lines, cuts, eol) => {
        const bytes = Buffer.from(lines.map((l) => l + eol).join(''), 'utf8');
        const whole = frame([bytes], 1 << 20);
        const pieces = frame(chunked(bytes, cuts), 1 << 20);
        expect(pieces).toEqual(whole);
        // Blank lines are skipped by design; lone surrogates come back as U+FFFD (UTF-8 has none).
        expect(whole.lines).toEqual(lines.map((l) => Buffer.from(l, 'utf8').toString('utf8')).filter((l) => l !== ''));
      }),
      { numRuns: RUNS },
    );
  });

  it('never delivers a line over its limit, however chunked', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }), fc.integer({ min: 2, max: 64 }), (text, cuts, limit) => {
        const { lines, error } = frame(chunked(Buffer.from(text, 'utf8'), cuts), limit);
        for (const l of lines) expect(Buffer.byteLength(l, 'utf8') + 1).toBeLessThanOrEqual(limit);
        const whole = frame([Buffer.from(text, 'utf8')], limit);
        // Chunking may only decide how much was delivered before the error, never a different line.
        expect(whole.lines.slice(0, lines.length)).toEqual(lines.slice(0, whole.lines.length));
        if (!error) expect(lines).toEqual(whole.lines);
      }),
      { numRuns: RUNS },
    );
  });
});

/** What a connection hands on per line: the string path (frame, then parseJsonLine), or with the byte prescan in the splitter. */
function parsedLines(chunks: Buffer[], limits: JsonLimits, bytes: boolean, shortLinesAbove = 0): { results: JsonLineResult[]; error: boolean } {
  const results: JsonLineResult[] = [];
  let error = false;
  const splitter = new LineSplitter({
    limit: 1 << 20,
    // As the connection does: a line the byte prescan passed clean skips the string prescan.
    onLine: (line, prescanned) => results.push(parseJsonLine(splitFrame(line).json, limits, bytes && prescanned)),
    onError: () => (error = true),
    ...(bytes ? { prescan: new JsonBytePrescan(limits), onRejected: (r: JsonLineResult) => results.push(r), prescanShortLinesAbove: shortLinesAbove } : {}),
  });
  for (const chunk of chunks) splitter.push(chunk);
  return { results, error };
}

describe('fuzz: byte prescan in the framer', () => {
  // Punctuation-heavy lines, escapes, `}` inside strings, Korean text, and a v3.3-like raw tail after the JSON.
  const unit = fc.constantFrom('[', ']', '{', '}', '"', '\\', ':', ',', '1', 'a', ' ', '_', 'u', '0', '5', 'f', '가', 'é', '__proto__', '"constructor"', '"\\u005f_proto__"', '[[[[', ']]]]');
  const structured = fc.tuple(fc.string({ unit, maxLength: 120 }), fc.option(fc.base64String({ maxLength: 20 }))).map(([body, raw]) => (raw === null ? body : `${body} ${raw}`));
  const line = fc.oneof(structured, jsonish).map((s) => s.replace(/[\r\n]/g, ' '));

  it('gives the same result per line as the string path, however the stream is chunked', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
        const expected = parsedLines([bytes], LIMITS, false);
        expect(parsedLines([bytes], LIMITS, true)).toEqual(expected);
        expect(parsedLines(chunked(bytes, cuts), LIMITS, true)).toEqual(expected);
        // As the connection runs it: short lines read whole in one chunk left to the string prescan.
        expect(parsedLines(chunked(bytes, cuts), LIMITS, true, 40)).toEqual(expected);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('fuzz: guarded JSON', () => {
  it('never throws, and what it accepts is within every limit and equal to JSON.parse', { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(jsonish, (text) => {
        const result = parseJsonLine(text, LIMITS);
        if (!result.ok) {
          expect(['BRIDGE_ERR_JSON_INVALID', 'BRIDGE_ERR_JSON_LIMITS', 'BRIDGE_ERR_JSON_POISON']).toContain(result.code);
          return;
        }
        expect(result.value).toEqual(JSON.parse(text));
        expect(depthOf(result.value)).toBeLessThanOrEqual(LIMITS.maxDepth);
        expect(keysOf(result.value)).toBeLessThanOrEqual(LIMITS.maxKeys);
        expect(longestArray(result.value)).toBeLessThanOrEqual(LIMITS.maxArrayItems);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('accepts every JSON value within the limits that has no forbidden key', { timeout: TIMEOUT }, () => {
    const small = fc.json({ maxDepth: 3 }).filter((text) => {
      const value: unknown = JSON.parse(text);
      return depthOf(value) <= LIMITS.maxDepth && keysOf(value) <= 20 && longestArray(value) <= 6 && text.length < 400 && !/"(__proto__|constructor|prototype)"\s*:/.test(text);
    });
    fc.assert(
      fc.property(small, (text) => {
        expect(parseJsonLine(text, { ...LIMITS, maxTokens: 10_000 })).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: codec round trip', () => {
  it('an analyze packet survives encode → frame → parse → decode with its ids and text intact', { timeout: TIMEOUT }, () => {
    const digits = fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }).map(String);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 30 }), digits, fc.option(digits), fc.array(fc.nat(), { maxLength: 6 }), (text, room, logId, channelId, cuts) => {
        const data = buildAnalyzeData({ text, room, ...(channelId === null ? {} : { channelId }) }, { botName: 'LOA.i', clientType: 'MessengerBotR', logId, now: new Date(0) });
        const framed = frame(chunked(Buffer.from(encodeLine({ event: 'analyze', data: { ...data, auth: null } }), 'utf8'), cuts), 1 << 20);
        expect(framed.lines).toHaveLength(1);
        const parsed = parseJsonLine(framed.lines[0]!, { maxDepth: 16, maxKeys: 2_000 });
        if (!parsed.ok) throw new Error(parsed.reason);
        const packet = v32Codec.decodePacket(parsed.value);
        if (packet.kind !== 'analyze') throw new Error(`decoded as ${packet.kind}`);
        expect(packet.data).toMatchObject({ text: data.text, room: data.room, logId, channelId: data.channelId });
      }),
      { numRuns: RUNS },
    );
  });
});
