/**
 * Splits a batch of rows into multi-row INSERT statements that stay under every dialect's limits:
 * - bound parameters: SQLite (3.32+) allows 32,766 per statement, MySQL 65,535 (a default
 *   chat-log batch, 1,000 rows of 18 columns, is one statement);
 * - statement size: chat text can reach 65,000 characters per row, and MariaDB's default
 *   max_allowed_packet is 16 MiB (a utf8mb4 character is up to 4 bytes).
 */

export const MAX_PARAMS_PER_STATEMENT = 32_000;
export const MAX_TEXT_CHARS_PER_STATEMENT = 2_000_000;

export interface ChunkLimits {
  readonly maxParams: number;
  readonly maxTextChars: number;
}

const DEFAULT_LIMITS: ChunkLimits = {
  maxParams: MAX_PARAMS_PER_STATEMENT,
  maxTextChars: MAX_TEXT_CHARS_PER_STATEMENT,
};

function textCharsOf(row: object): number {
  let chars = 0;
  for (const value of Object.values(row)) {
    if (typeof value === 'string') chars += value.length;
  }
  return chars;
}

/** Every chunk holds at least one row, so a single oversized row still gets its own statement. */
export function chunkRows<T extends object>(rows: readonly T[], limits: ChunkLimits = DEFAULT_LIMITS): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let params = 0;
  let chars = 0;
  for (const row of rows) {
    const rowParams = Object.keys(row).length;
    const rowChars = textCharsOf(row);
    if (current.length > 0 && (params + rowParams > limits.maxParams || chars + rowChars > limits.maxTextChars)) {
      chunks.push(current);
      current = [];
      params = 0;
      chars = 0;
    }
    current.push(row);
    params += rowParams;
    chars += rowChars;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
