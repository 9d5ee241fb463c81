/**
 * The comparison behind `shouldReply`: expected texts (exact strings or patterns) against the
 * replies that came, with a line-by-line diff a plugin author can read in a failed test.
 */

export type ExpectedText = string | RegExp;

/** Undefined when every text matches its expectation in order, else a readable diff. */
export function diffReplies(expected: readonly ExpectedText[], actual: readonly string[]): string | undefined {
  const count = Math.max(expected.length, actual.length);
  const lines: string[] = [];
  let mismatches = 0;
  for (let i = 0; i < count; i++) {
    const want = expected[i];
    const got = actual[i];
    const ok = want !== undefined && got !== undefined && matches(want, got);
    if (!ok) mismatches++;
    lines.push(`  ${ok ? ' ' : '✗'} #${i + 1} expected: ${want === undefined ? '(nothing)' : show(want)}`);
    lines.push(`         actual: ${got === undefined ? '(no reply)' : show(got)}`);
  }
  return mismatches === 0 ? undefined : lines.join('\n');
}

function matches(want: ExpectedText, got: string): boolean {
  if (typeof want === 'string') return want === got;
  // A fresh RegExp per test: a /g or /y pattern's lastIndex must not leak between calls.
  return new RegExp(want.source, want.flags).test(got);
}

function show(value: ExpectedText): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
