/**
 * Plain aligned text tables for `list` commands. Room and device names come from phones and
 * KakaoTalk, so cells are sanitised (a control character could move the cursor or recolour the
 * operator's terminal) and Korean text is measured at its terminal width (two columns a glyph).
 */

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/** East Asian wide and fullwidth ranges (Hangul, CJK, fullwidth forms) and emoji. */
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xa000, 0xa4cf], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe30, 0xfe4f], [0xff00, 0xff60],
  [0xffe0, 0xffe6], [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x20000, 0x3fffd],
];

export function sanitiseCell(value: string): string {
  return value.replace(CONTROL_CHARS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    width += WIDE_RANGES.some(([from, to]) => code >= from && code <= to) ? 2 : 1;
  }
  return width;
}

/** Header plus rows, columns separated by two spaces, trailing spaces trimmed. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => row.map(sanitiseCell));
  const widths = header.map((_, col) => Math.max(...cells.map((row) => displayWidth(row[col] ?? ''))));
  return cells
    .map((row) => row.map((cell, col) => cell + ' '.repeat(widths[col]! - displayWidth(cell))).join('  ').trimEnd())
    .join('\n') + '\n';
}

/** Local time, to the second: what an operator compares with the clock on the wall. */
export function formatLocalTime(date: Date | null): string {
  if (date === null) return '-';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
