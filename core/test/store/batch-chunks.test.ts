import { describe, expect, it } from 'vitest';
import { chunkRows } from '../../src/store/batch-chunks.js';

describe('chunkRows', () => {
  it('splits by bound parameters and by text size, never leaving a row out', () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ a: i, b: 'x'.repeat(i === 7 ? 50 : 1) }));
    const chunks = chunkRows(rows, { maxParams: 6, maxTextChars: 20 });
    expect(chunks.flat()).toEqual(rows);
    expect(chunks.map((c) => c.length)).toEqual([3, 3, 1, 1, 2]);
  });
});
