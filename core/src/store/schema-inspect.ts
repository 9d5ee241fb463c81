/**
 * Reads the shape of the tables as they really are. Operators' MySQL databases hold kb_* tables
 * created by the old server and its PHP admin, in several historical versions (columns missing,
 * other keys, DATETIME where botbridge would use BIGINT), so migrations and writes look before
 * they touch. The lookups themselves are the dialect's (`readTableColumns`, `readIndexes` in
 * dialects/); these helpers judge what they return.
 */

export interface IndexShape {
  readonly name: string;
  readonly unique: boolean;
  /** Key columns in index order. */
  readonly columns: readonly string[];
}

/** DATETIME, TIMESTAMP and DATE columns take wall-clock strings, not epoch numbers. */
export function isDateType(dataType: string | undefined): boolean {
  return dataType !== undefined && /^(datetime|timestamp|date)\b/.test(dataType);
}

/** A key that makes `columns` unique: a unique index over a subset of them. */
export function hasUniqueKeyWithin(indexes: readonly IndexShape[], columns: readonly string[]): boolean {
  return indexes.some((i) => i.unique && i.columns.length > 0 && i.columns.every((c) => columns.includes(c)));
}

/** An index usable for lookups on `columns`: one whose leading columns are exactly these. */
export function hasIndexLeadingWith(indexes: readonly IndexShape[], columns: readonly string[]): boolean {
  return indexes.some((i) => columns.every((c, n) => i.columns[n] === c));
}
