import { describe, expect, it } from 'vitest';
import { parsePrometheus } from './prometheus-parser.js';

/** The metrics test is only as strict as its parser: it must refuse what Prometheus refuses. */
describe('the strict exposition parser of the metrics test', () => {
  const good = [
    '# HELP a_total Things.',
    '# TYPE a_total counter',
    'a_total{x="1",y="q\\"uote\\\\n"} 3',
    '# TYPE h histogram',
    'h_bucket{le="0.1"} 1',
    'h_bucket{le="+Inf"} 2',
    'h_sum 0.3',
    'h_count 2',
    '',
  ].join('\n');

  it('accepts well-formed text and reads labels with escapes', () => {
    const families = parsePrometheus(good);
    expect(families.get('a_total')!.samples[0]).toEqual({ name: 'a_total', labels: { x: '1', y: 'q"uote\\n' }, value: 3 });
    expect(families.get('h')!.samples).toHaveLength(4);
  });

  it.each([
    ['no final newline', good.trimEnd()],
    ['bad metric name', '1bad 2\n'],
    ['bad value', 'a 1,5\n'],
    ['unterminated label', 'a{x="1} 2\n'],
    ['bad escape', 'a{x="\\t"} 2\n'],
    ['duplicate series', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['second TYPE', '# TYPE a counter\n# TYPE a gauge\n'],
    ['TYPE after samples', 'a 1\n# TYPE a counter\n'],
    ['family split in two', 'a 1\nb 1\na{x="2"} 1\n'],
    ['histogram +Inf differs from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['decreasing buckets', '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_count 2\n'],
    ['counter with a foreign suffix', '# TYPE c counter\nc_bucket 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheus(text)).toThrow();
  });
});
