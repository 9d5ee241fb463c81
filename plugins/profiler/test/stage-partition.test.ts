import { describe, expect, it } from 'vitest';
import { partitionStages } from '../src/stage-partition.js';

const sum = (stages: { ms: number }[]) => stages.reduce((s, x) => s + x.ms, 0);

describe('partitionStages', () => {
  it('counts each instant once, for the innermost stage', () => {
    const stages = partitionStages(0, 100, [
      { from: 0, to: 10, stage: 'queue', plugin: null },
      { from: 10, to: 15, stage: 'concurrency', plugin: null },
      { from: 15, to: 80, stage: 'core', plugin: null },
      { from: 20, to: 70, stage: 'onMessage', plugin: 'p' },
      { from: 30, to: 40, stage: 'beforeReply', plugin: 'rw' }, // ctx.reply() inside the handler
      { from: 40, to: 99, stage: 'hold', plugin: null }, // its reply waits while the handler goes on
      { from: 99, to: 100, stage: 'send', plugin: null },
    ]);
    expect(stages).toEqual([
      { stage: 'queue', plugin: null, ms: 10 },
      { stage: 'concurrency', plugin: null, ms: 5 },
      { stage: 'core', plugin: null, ms: 15 },
      { stage: 'onMessage', plugin: 'p', ms: 40 },
      { stage: 'beforeReply', plugin: 'rw', ms: 10 },
      { stage: 'hold', plugin: null, ms: 19 },
      { stage: 'send', plugin: null, ms: 1 },
    ]);
    expect(sum(stages)).toBe(100);
  });

  it('merges parallel observers into one stage and names uncovered time other', () => {
    const stages = partitionStages(0, 50, [
      { from: 0, to: 5, stage: 'queue', plugin: null },
      { from: 10, to: 30, stage: 'onReceive', plugin: 'a' },
      { from: 20, to: 40, stage: 'onReceive', plugin: 'b' },
    ]);
    expect(stages).toEqual([
      { stage: 'queue', plugin: null, ms: 5 },
      { stage: 'onReceive', plugin: null, ms: 30 },
      { stage: 'other', plugin: null, ms: 15 },
    ]);
  });

  it('clips intervals to the message span', () => {
    const stages = partitionStages(10, 20, [{ from: 0, to: 30, stage: 'core', plugin: null }]);
    expect(stages).toEqual([{ stage: 'core', plugin: null, ms: 10 }]);
  });
});
