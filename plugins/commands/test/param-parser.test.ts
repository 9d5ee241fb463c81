import { describe, expect, it } from 'vitest';
import { convert, splitParameters, validateParameters, type ParameterSpec } from '../src/param-parser.js';

const repeat: ParameterSpec = { name: 'repeat', type: 'int', optional: true, default: 1, description: 'r' };
const wait: ParameterSpec = { name: 'media-wait-time', type: 'int', optional: true, min: 1000, max: 30000, description: 'w' };

describe('splitParameters', () => {
  it('removes --name=value pairs and trims the rest into the prompt', () => {
    const { prompt, raw } = splitParameters('  hello --repeat=3 world --channel-id=123  ');
    expect(prompt).toBe('hello  world');
    expect([...raw]).toEqual([
      ['repeat', '3'],
      ['channel-id', '123'],
    ]);
  });

  it('lets the last occurrence of a name win', () => {
    expect(splitParameters('x --repeat=2 --repeat=4').raw.get('repeat')).toBe('4');
  });

  it('keeps hyphens in names and accepts digits and capitals', () => {
    const { raw } = splitParameters('--media-wait-time=5000 --Bot-Name2=LOA.i');
    expect(raw.get('media-wait-time')).toBe('5000');
    expect(raw.get('Bot-Name2')).toBe('LOA.i');
  });

  it('leaves text alone that is no parameter (no value, other characters in the name, single dash)', () => {
    const { prompt, raw } = splitParameters('a --flag --x_y=1 -n=2 --=3 b');
    expect(raw.size).toBe(0);
    expect(prompt).toBe('a --flag --x_y=1 -n=2 --=3 b');
  });

  it('takes a value up to the next whitespace, including = and symbols', () => {
    expect(splitParameters('--q=a=b&c 안녕').raw.get('q')).toBe('a=b&c');
  });

  it('treats prototype names as ordinary keys', () => {
    const { raw } = splitParameters('--constructor=1');
    expect(raw.get('constructor')).toBe('1');
    const result = validateParameters(raw, []);
    expect(result.ok && result.unknown).toEqual(['constructor']);
  });
});

describe('validateParameters', () => {
  it('reports a missing required parameter with the old server text', () => {
    const required: ParameterSpec = { name: 'count', type: 'int', optional: false, description: 'c' };
    expect(validateParameters(new Map(), [required])).toEqual({ ok: false, error: "필수 파라미터 'count'가 누락되었습니다." });
  });

  it('checks required parameters before types', () => {
    const required: ParameterSpec = { name: 'count', type: 'int', optional: false, description: 'c' };
    const result = validateParameters(new Map([['repeat', 'abc']]), [repeat, required]);
    expect(result).toEqual({ ok: false, error: "필수 파라미터 'count'가 누락되었습니다." });
  });

  it.each([
    ['int', 'abc'],
    ['int', '3.5'],
    ['int', '99999999999999999999'],
    ['float', 'x1'],
    ['float', 'inf'],
    ['float', 'NaN'],
  ] as const)('refuses %s value %s with the old server text', (type, value) => {
    const spec: ParameterSpec = { name: 'v', type, optional: true, description: 'v' };
    expect(validateParameters(new Map([['v', value]]), [spec])).toEqual({
      ok: false,
      error: `파라미터 'v'의 값이 올바른 ${type} 형식이 아닙니다: ${value}`,
    });
  });

  it('converts ints, floats, bools and strings', () => {
    const specs: ParameterSpec[] = [
      { name: 'i', type: 'int', optional: true, description: '' },
      { name: 'f', type: 'float', optional: true, description: '' },
      { name: 'b', type: 'bool', optional: true, description: '' },
      { name: 's', type: 'string', optional: true, description: '' },
    ];
    const result = validateParameters(new Map([['i', '-7'], ['f', '2.5e1'], ['b', 'YES'], ['s', '42']]), specs);
    expect(result.ok && result.values).toEqual({ i: -7, f: 25, b: true, s: '42' });
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['On', true],
    ['false', false],
    ['0', false],
    ['nope', false],
  ] as const)('bool %s is %s', (value, expected) => {
    expect(convert('bool', value)).toBe(expected);
  });

  it('applies defaults for absent parameters only', () => {
    expect(validateParameters(new Map(), [repeat])).toEqual({ ok: true, values: { repeat: 1 }, unknown: [], clamped: [] });
    const given = validateParameters(new Map([['repeat', '3']]), [repeat]);
    expect(given.ok && given.values).toEqual({ repeat: 3 });
  });

  it('leaves an optional parameter without default absent', () => {
    const result = validateParameters(new Map(), [wait]);
    expect(result.ok && result.values).toEqual({});
  });

  it('ignores undeclared parameters and names them for the log', () => {
    const result = validateParameters(new Map([['colour', 'red'], ['repeat', '2']]), [repeat]);
    expect(result).toEqual({ ok: true, values: { repeat: 2 }, unknown: ['colour'], clamped: [] });
  });

  it('clamps numbers into [min, max] silently', () => {
    const low = validateParameters(new Map([['media-wait-time', '10']]), [wait]);
    const high = validateParameters(new Map([['media-wait-time', '99999']]), [wait]);
    const inside = validateParameters(new Map([['media-wait-time', '5000']]), [wait]);
    expect(low).toEqual({ ok: true, values: { 'media-wait-time': 1000 }, unknown: [], clamped: ['media-wait-time'] });
    expect(high.ok && high.values).toEqual({ 'media-wait-time': 30000 });
    expect(inside).toEqual({ ok: true, values: { 'media-wait-time': 5000 }, unknown: [], clamped: [] });
  });
});
