import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/pipeline/fifo.js';

describe('Fifo', () => {
  it('keeps first-in first-out order across its internal compaction', () => {
    const q = new Fifo<number>();
    let next = 0;
    let expected = 0;
    // Interleave pushes and shifts so the dead prefix crosses the compaction threshold many times.
    for (let round = 0; round < 50; round += 1) {
      for (let i = 0; i < 300; i += 1) q.push(next++);
      for (let i = 0; i < 250; i += 1) expect(q.shift()).toBe(expected++);
      expect(q.length).toBe(next - expected);
      expect(q.peek()).toBe(expected);
    }
    expect([...q]).toEqual(Array.from({ length: next - expected }, (_, i) => expected + i));
    expect(q.takeAll()).toHaveLength(next - expected);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
  });
});
