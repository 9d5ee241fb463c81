export interface JsonLimits {
  readonly maxDepth: number;
  readonly maxKeys: number;
  /** Most elements in one array (limits.maxJsonArrayItems). Default DEFAULT_MAX_ARRAY_ITEMS. */
  readonly maxArrayItems?: number;
  /** Most tokens (brackets, braces, strings, ':' and ',') in one line (limits.maxJsonTokens). Default DEFAULT_MAX_TOKENS. */
  readonly maxTokens?: number;
}

/**
 * A v3.2/v3.3 packet has well under 200 tokens and arrays of a few elements (message_positions);
 * these bounds leave a wide margin and cap what JSON.parse may be handed to a few milliseconds.
 */
export const DEFAULT_MAX_ARRAY_ITEMS = 1_000;
export const DEFAULT_MAX_TOKENS = 20_000;

export type JsonErrorCode = 'BRIDGE_ERR_JSON_INVALID' | 'BRIDGE_ERR_JSON_LIMITS' | 'BRIDGE_ERR_JSON_POISON';

export type JsonLineResult =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly code: JsonErrorCode;
      readonly reason: string;
      /** Parameters for the code's message template in core/src/errors.ts. */
      readonly params: Readonly<Record<string, unknown>>;
    };

/** Keys that can poison prototypes when a parsed object is later merged or assigned. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Character codes the prescans look for (also byte-prescan.ts: UTF-8 bytes of these are the same). */
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const UNDERSCORE = 0x5f;
export const LOWER_C = 0x63;
export const LOWER_P = 0x70;
/** An escaped spelling of a forbidden key is at least this long (`\u005f` adds 5 characters). */
const MIN_ESCAPED_KEY_LENGTH = 14;

/**
 * Parses one NDJSON line under limits (PROTOCOL.md §1, botbridge). A linear pre-scan outside
 * string literals checks nesting depth, key count and key names before `JSON.parse` runs, so a
 * hostile 1 MiB line of nested arrays is rejected after reading at most `maxDepth + 1` brackets
 * instead of costing a full parse. String bodies are skipped with `indexOf('"')`, so the scan of a
 * normal packet touches little more than its punctuation. Arrays are bounded too (elements per
 * array and tokens per line): a 1 MiB line of `[[],[],…]` within the depth limit cost ~80 ms of
 * `JSON.parse` and is now rejected after `maxTokens` tokens of scanning (issue 13).
 */
export function parseJsonLine(text: string, limits: JsonLimits, prescanned = false): JsonLineResult {
  // `prescanned`: the framer's byte prescan (byte-prescan.ts) already ran these checks clean on the whole line.
  const rejected = prescanned ? undefined : prescan(text, limits);
  if (rejected !== undefined) return rejected;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return invalid(error instanceof Error ? error.message : String(error));
  }
}

function prescan(text: string, limits: JsonLimits): JsonLineResult | undefined {
  const n = text.length;
  const maxItems = limits.maxArrayItems ?? DEFAULT_MAX_ARRAY_ITEMS;
  const maxTokens = limits.maxTokens ?? DEFAULT_MAX_TOKENS;
  let depth = 0;
  let keys = 0;
  let tokens = 0;
  // Per open container: its element count when an array, -1 when an object. Bounded by maxDepth.
  const items: number[] = [];
  // The last string literal seen: when a ':' follows it, it was a key.
  let lastStart = -1;
  let lastEnd = -1;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      // Unterminated: JSON.parse reports it with a position.
      if (end === -1) return undefined;
      if (++tokens > maxTokens) return limitsExceeded(`more than ${maxTokens} tokens`);
      lastStart = i;
      lastEnd = end;
      i = end + 1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limits.maxDepth) return limitsExceeded(`nesting deeper than ${limits.maxDepth}`);
      if (++tokens > maxTokens) return limitsExceeded(`more than ${maxTokens} tokens`);
      // An array counts its first element from here; `[]` is over-counted by one, which is harmless.
      items.push(c === OPEN_BRACKET ? 1 : -1);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
      items.pop();
    } else if (c === COMMA) {
      if (++tokens > maxTokens) return limitsExceeded(`more than ${maxTokens} tokens`);
      const top = items.length - 1;
      if (top >= 0 && items[top]! >= 0 && ++items[top]! > maxItems) {
        return limitsExceeded(`an array of more than ${maxItems} elements`);
      }
    } else if (c === COLON) {
      if (++keys > limits.maxKeys) return limitsExceeded(`more than ${limits.maxKeys} keys`);
      if (++tokens > maxTokens) return limitsExceeded(`more than ${maxTokens} tokens`);
      if (lastStart >= 0) {
        const poisoned = forbiddenKey(text, lastStart, lastEnd);
        if (poisoned !== undefined) return poisoned;
      }
    }
    i += 1;
  }
  return undefined;
}

/** Index of the quote closing the string opened at `open`, or -1. Linear: each backslash run is read once. */
function closingQuote(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q === -1) return -1;
    let b = q - 1;
    while (b >= from && text.charCodeAt(b) === BACKSLASH) b -= 1;
    if ((q - 1 - b) % 2 === 0) return q;
    from = q + 1;
  }
}

function forbiddenKey(text: string, open: number, close: number): JsonLineResult | undefined {
  const length = close - open - 1;
  let key: string;
  if (length === 9 || length === 11) {
    // Cheap first-letter test before slicing: most 9- and 11-letter keys are ordinary.
    const first = text.charCodeAt(open + 1);
    if (first !== UNDERSCORE && first !== LOWER_C && first !== LOWER_P) return undefined;
    key = text.slice(open + 1, close);
  } else if (length >= MIN_ESCAPED_KEY_LENGTH && hasBackslash(text, open + 1, close)) {
    try {
      key = JSON.parse(text.slice(open, close + 1)) as string;
    } catch {
      return invalid(`bad escape in key at position ${open}`);
    }
  } else {
    return undefined;
  }
  if (!FORBIDDEN_KEYS.has(key)) return undefined;
  return { ok: false, code: 'BRIDGE_ERR_JSON_POISON', reason: `forbidden key ${key}`, params: { key } };
}

function hasBackslash(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i += 1) {
    if (text.charCodeAt(i) === BACKSLASH) return true;
  }
  return false;
}

function limitsExceeded(reason: string): JsonLineResult {
  return { ok: false, code: 'BRIDGE_ERR_JSON_LIMITS', reason, params: { reason } };
}

function invalid(reason: string): JsonLineResult {
  return { ok: false, code: 'BRIDGE_ERR_JSON_INVALID', reason, params: { reason } };
}
