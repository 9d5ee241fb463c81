import { describe, expect, it } from 'vitest';
import { displayWidth, formatTable, sanitiseCell } from '../../src/cli/format-table.js';

describe('formatTable', () => {
  it('measures Hangul and emoji at two terminal columns', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('테스트방')).toBe(8);
    expect(displayWidth('방🎉')).toBe(4);
  });

  it('escapes control characters so a room name cannot drive the terminal', () => {
    expect(sanitiseCell('a\u001b[2Jb\nc\u009bd')).toBe('a\\x1b[2Jb\\x0ac\\x9bd');
  });

  it('aligns columns by display width', () => {
    expect(formatTable(['NAME', 'N'], [['테스트방', '1'], ['ab', '22']])).toBe('NAME      N\n테스트방  1\nab        22\n');
  });
});
