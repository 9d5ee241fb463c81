import { describe, expect, it } from 'vitest';
import { parseJsonLine } from '../../src/protocol/safe-json.js';

const limits = { maxDepth: 4, maxKeys: 10 };

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

describe('parseJsonLine', () => {
  it('parses a valid line', () => {
    expect(parseJsonLine('{"event":"analyze","data":{"room":"방","n":[1,2]}}', limits)).toEqual({
      ok: true,
      value: { event: 'analyze', data: { room: '방', n: [1, 2] } },
    });
  });

  it('accepts nesting up to maxDepth and rejects one level more', () => {
    expect(parseJsonLine(nested(4), limits).ok).toBe(true);
    const deeper = parseJsonLine(nested(5), limits);
    expect(deeper).toMatchObject({ ok: false, code: 'BRIDGE_ERR_JSON_LIMITS', reason: 'nesting deeper than 4' });
    expect(parseJsonLine('{"a":{"b":{"c":{"d":{}}}}}', limits)).toMatchObject({ ok: false, code: 'BRIDGE_ERR_JSON_LIMITS' });
  });

  it('counts depth across sibling containers, not their total', () => {
    expect(parseJsonLine(`[${Array(50).fill('[[1]]').join(',')}]`, limits).ok).toBe(true);
  });

  it('rejects a 1 MiB line of nested arrays before parsing it', () => {
    const hostile = nested(512 * 1024);
    expect(parseJsonLine(hostile, { maxDepth: 16, maxKeys: 2000 })).toMatchObject({
      ok: false,
      code: 'BRIDGE_ERR_JSON_LIMITS',
    });
  });

  it('ignores brackets, braces and colons inside strings', () => {
    const text = JSON.stringify({ t: '[[[[[[{{{{:::::::::::::' });
    expect(parseJsonLine(text, limits)).toEqual({ ok: true, value: { t: '[[[[[[{{{{:::::::::::::' } });
  });

  it('handles escaped quotes and escaped backslashes before a closing quote', () => {
    const value = { a: 'x"[[[[[[', b: 'y\\', c: '\\"{{{{{{{', d: '\\\\' };
    expect(parseJsonLine(JSON.stringify(value), limits)).toEqual({ ok: true, value });
  });

  it('accepts maxKeys keys and rejects one more, counting nested objects', () => {
    const ten = JSON.stringify({ a: 1, b: 2, c: 3, d: 4, e: { f: 5, g: 6, h: 7, i: 8, j: 9 } });
    expect(parseJsonLine(ten, limits).ok).toBe(true);
    const eleven = JSON.stringify({ a: 1, b: 2, c: 3, d: 4, e: { f: 5, g: 6, h: 7, i: 8, j: 9, k: 10 } });
    expect(parseJsonLine(eleven, limits)).toMatchObject({ ok: false, code: 'BRIDGE_ERR_JSON_LIMITS', reason: 'more than 10 keys' });
  });

  it.each([
    ['__proto__ at the top', '{"__proto__":{"polluted":true}}', '__proto__'],
    ['constructor nested in an array', '{"data":[{"x":1},{"constructor":{"prototype":{}}}]}', 'constructor'],
    ['prototype deep inside', '{"a":{"b":{"prototype":1}}}', 'prototype'],
    ['an escaped __proto__', '{"\\u005f_proto__":{}}', '__proto__'],
    ['a key spaced from its colon', '{"__proto__"  :  1}', '__proto__'],
  ])('rejects %s', (_name, text, key) => {
    expect(parseJsonLine(text, { maxDepth: 16, maxKeys: 100 })).toEqual({
      ok: false,
      code: 'BRIDGE_ERR_JSON_POISON',
      reason: `forbidden key ${key}`,
      params: { key },
    });
  });

  it('allows forbidden words as values and as parts of longer keys', () => {
    const text = '{"text":"__proto__","constructorName":"constructor","prototypes":["prototype"]}';
    expect(parseJsonLine(text, limits).ok).toBe(true);
  });

  it.each([
    ['truncated object', '{"event":"analyze"'],
    ['unterminated string', '{"event":"analy'],
    ['trailing garbage', '{"a":1}x'],
    ['not JSON at all', 'hello'],
  ])('reports invalid JSON: %s', (_name, text) => {
    const result = parseJsonLine(text, limits);
    expect(result).toMatchObject({ ok: false, code: 'BRIDGE_ERR_JSON_INVALID' });
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
  });

  it('accepts maxArrayItems elements in one array and rejects one more', () => {
    const three = { maxDepth: 4, maxKeys: 10, maxArrayItems: 3 };
    expect(parseJsonLine('{"p":[0,1,2],"q":[[1,2,3],["a","b","c"]]}', three).ok).toBe(true);
    expect(parseJsonLine('{"p":[0,1,2,3]}', three)).toMatchObject({ ok: false, code: 'BRIDGE_ERR_JSON_LIMITS', reason: 'an array of more than 3 elements' });
    // Commas of an object or inside a string do not count as elements.
    expect(parseJsonLine('[{"a":1,"b":2,"c":3,"d":4},"x,y,z,w"]', three).ok).toBe(true);
  });

  it('rejects a line with more than maxTokens tokens, whatever its shape', () => {
    const tokens = { maxDepth: 16, maxKeys: 2000, maxArrayItems: 1_000_000, maxTokens: 100 };
    expect(parseJsonLine(`[${Array(40).fill('"s"').join(',')}]`, tokens).ok).toBe(true);
    expect(parseJsonLine(`[${Array(60).fill('"s"').join(',')}]`, tokens)).toMatchObject({ ok: false, reason: 'more than 100 tokens' });
  });

  it('rejects a 1 MiB line of flat nested arrays within the depth limit by default (issue 13)', () => {
    const unit = '[[[[[[[[]]]]]]]]';
    const hostile = `[${Array(Math.floor(1_048_000 / (unit.length + 1))).fill(unit).join(',')}]`;
    const started = performance.now();
    const result = parseJsonLine(hostile, { maxDepth: 16, maxKeys: 2000 });
    expect(result).toMatchObject({ ok: false, code: 'BRIDGE_ERR_JSON_LIMITS' });
    // Generous bound for a loaded machine; JSON.parse of this line takes ~80 ms.
    expect(performance.now() - started).toBeLessThan(50);
  });
});
