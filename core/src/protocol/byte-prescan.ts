import {
  BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, DEFAULT_MAX_ARRAY_ITEMS, DEFAULT_MAX_TOKENS, FORBIDDEN_KEYS, LOWER_C, LOWER_P,
  OPEN_BRACE, OPEN_BRACKET, QUOTE, UNDERSCORE, type JsonLimits, type JsonLineResult,
} from './safe-json.js';

/** An escaped key longer than this (bytes) is left to the string path: `constructor` spelt all in `\uXXXX` escapes is 66. */
const KEY_CAPTURE_BYTES = 256;
/** 1 for the bytes the scan acts on outside strings; runs of others (numbers, literals, spaces, junk) are skipped in a tight loop. */
const STRUCTURAL = new Uint8Array(256);
for (const c of [QUOTE, COLON, COMMA, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET]) STRUCTURAL[c] = 1;
/** Bytes of a string read one by one before the scan jumps from quote to quote. */
const SHORT_STRING_BYTES = 32;
/** An escaped spelling of a forbidden key is at least this long (as in safe-json.ts; bytes ≥ characters). */
const MIN_ESCAPED_KEY_LENGTH = 14;

/** A byte-level verdict on a line: rejected (with the result the string path would give) or undecided. */
export type ByteVerdict = { readonly rejected: Extract<JsonLineResult, { ok: false }> } | undefined;

/**
 * The JSON prescan of safe-json.ts run on a line's UTF-8 bytes as its chunks arrive (issue 13),
 * so a line that breaks a limit (depth, keys, array elements, tokens) or carries a forbidden key
 * is rejected before its bytes are joined, decoded or handed to JSON.parse. Every structural
 * character is ASCII, and UTF-8 never uses an ASCII byte inside a multi-byte character, so the
 * bytes give the same counts as the decoded text.
 *
 * It never contradicts the string path (parseJsonLine on splitFrame(line).json): the string path
 * scans only the part up to the line's last `}` (a v3.3 raw payload follows it), so a violation
 * is final only when no `}` precedes it (the JSON part is then the whole line or ends after it) or
 * a `}` follows it. Until then it is pending; a line that ends with it pending, or any case the
 * scan cannot settle from bytes (a key with a bad escape, an escaped key longer than
 * KEY_CAPTURE_BYTES), is left undecided for the string path, which is always right.
 *
 * One plain loop over the bytes (no per-string native calls: a 550-byte packet costs about as
 * much as its decoding); a string's bytes are not copied, only located, and joined only in the
 * rare case of a short key split across chunks.
 */
export class JsonBytePrescan {
  private readonly maxDepth: number;
  private readonly maxKeys: number;
  private readonly maxItems: number;
  private readonly maxTokens: number;
  private depth = 0;
  private keys = 0;
  private tokens = 0;
  private items: number[] = [];
  private inString = false;
  /** Inside a string: the previous byte was an escaping backslash. */
  private escapeNext = false;
  private strBackslash = false;
  /** The open string went past SHORT_STRING_BYTES in one buffer: strBackslash may miss some. */
  private strLong = false;
  /** Where the open string's bytes start in the current buffer, and its earlier pieces (split strings only). */
  private strStart = 0;
  private strPieces: Buffer[] | null = null;
  private strPieceBytes = 0;
  /** The last closed string literal (when a ':' follows it, it was a key): its bytes, located. */
  private lastBuf: Buffer | null = null;
  private lastStart = 0;
  private lastEnd = 0;
  /** Byte length of the last string, -1 when none yet; > KEY_CAPTURE_BYTES when not kept. */
  private lastBytes = -1;
  private lastBackslash = false;
  /** An earlier buffer of the line held a `}` (in a string or not). */
  private braceSeen = false;
  /** Cached position of the next backslash in `bsBuf` at or after the last search (-1: none). */
  private bsBuf: Buffer | undefined;
  private bsPos = -1;
  private verdict: Extract<JsonLineResult, { ok: false }> | undefined;
  private pending = false;
  private done = false;

  constructor(limits: JsonLimits) {
    this.maxDepth = limits.maxDepth;
    this.maxKeys = limits.maxKeys;
    this.maxItems = limits.maxArrayItems ?? DEFAULT_MAX_ARRAY_ITEMS;
    this.maxTokens = limits.maxTokens ?? DEFAULT_MAX_TOKENS;
  }

  /** Starts a new line. */
  reset(): void {
    this.depth = 0;
    this.keys = 0;
    this.tokens = 0;
    this.items.length = 0;
    this.inString = false;
    this.escapeNext = false;
    this.strBackslash = false;
    this.strPieces = null;
    this.strPieceBytes = 0;
    this.lastBuf = null;
    this.lastBytes = -1;
    this.lastBackslash = false;
    this.braceSeen = false;
    this.bsBuf = undefined;
    this.verdict = undefined;
    this.pending = false;
    this.done = false;
  }

  /**
   * The whole line was scanned with no violation, pending or not, and nothing left to the string
   * path: then the string prescan of its JSON part (a prefix of the line, scanned the same way)
   * cannot find one either, and JSON.parse may run directly.
   */
  get clean(): boolean {
    return !this.done;
  }

  /** The final verdict so far: a rejection that no later byte of the line can change, or undefined. */
  get result(): ByteVerdict {
    return this.verdict !== undefined && !this.pending ? { rejected: this.verdict } : undefined;
  }

  /** Feeds the next bytes of the current line (no `\n` among them). */
  feed(buf: Buffer): void {
    if (this.done) {
      // Pending: only a `}` after the violation can settle it.
      if (this.pending && buf.includes(CLOSE_BRACE)) this.pending = false;
      return;
    }
    const n = buf.length;
    if (this.inString) this.strStart = 0;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        const end = this.stringEnd(buf, i);
        if (end === -1) break;
        this.inString = false;
        if (++this.tokens > this.maxTokens) return this.violate(end, `more than ${this.maxTokens} tokens`, buf);
        this.closeString(buf, end);
        i = end + 1;
        continue;
      }
      while (i < n && STRUCTURAL[buf[i]!] === 0) i += 1;
      if (i >= n) break;
      const c = buf[i]!;
      if (c === QUOTE) {
        this.inString = true;
        this.escapeNext = false;
        this.strStart = i + 1;
        this.strBackslash = false;
        this.strLong = false;
        this.strPieces = null;
        this.strPieceBytes = 0;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++this.depth > this.maxDepth) return this.violate(i, `nesting deeper than ${this.maxDepth}`, buf);
        if (++this.tokens > this.maxTokens) return this.violate(i, `more than ${this.maxTokens} tokens`, buf);
        this.items.push(c === OPEN_BRACKET ? 1 : -1);
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth -= 1;
        this.items.pop();
      } else if (c === COMMA) {
        if (++this.tokens > this.maxTokens) return this.violate(i, `more than ${this.maxTokens} tokens`, buf);
        const top = this.items.length - 1;
        if (top >= 0 && this.items[top]! >= 0 && ++this.items[top]! > this.maxItems) {
          return this.violate(i, `an array of more than ${this.maxItems} elements`, buf);
        }
      } else if (c === COLON) {
        if (++this.keys > this.maxKeys) return this.violate(i, `more than ${this.maxKeys} keys`, buf);
        if (++this.tokens > this.maxTokens) return this.violate(i, `more than ${this.maxTokens} tokens`, buf);
        if (this.lastBytes >= 0) {
          const key = this.lastKey();
          if (key === undefined) {
            this.done = true;
            return;
          }
          if (key !== null && FORBIDDEN_KEYS.has(key)) {
            return this.settle({ ok: false, code: 'BRIDGE_ERR_JSON_POISON', reason: `forbidden key ${key}`, params: { key } }, buf, i);
          }
        }
      }
      i += 1;
    }
    // One native search a chunk: whether a `}` (in a string or not) came before what follows.
    if (!this.braceSeen && buf.includes(CLOSE_BRACE)) this.braceSeen = true;
    // A string still open goes on in the next buffer: keep its piece if it may be a key.
    if (this.inString) {
      if (this.strLong && !this.strBackslash && this.backslashIn(buf, this.strStart, n)) this.strBackslash = true;
      this.keepPiece(buf.subarray(this.strStart));
    }
  }

  /**
   * Index of the quote closing the open string at or after `i`, or -1 (the string goes on; the
   * escape state is carried). A short run is read byte by byte (most strings of a packet are a
   * few bytes); past SHORT_STRING_BYTES it jumps from quote to quote with a native search and
   * reads the backslash run before each (its parity, joined to the run before `i`).
   */
  private stringEnd(buf: Buffer, i: number): number {
    const n = buf.length;
    const short = Math.min(n, i + SHORT_STRING_BYTES);
    for (; i < short; i++) {
      const c = buf[i]!;
      if (this.escapeNext) this.escapeNext = false;
      else if (c === BACKSLASH) {
        this.escapeNext = true;
        this.strBackslash = true;
      } else if (c === QUOTE) return i;
    }
    if (i >= n) return -1;
    // Long string: backslashes are only tracked for their parity (and `strBackslash` is no longer exact).
    this.strLong = true;
    for (;;) {
      const q = buf.indexOf(QUOTE, i);
      const end = q === -1 ? n : q;
      let b = end - 1;
      while (b >= i && buf[b] === BACKSLASH) b -= 1;
      const run = end - 1 - b;
      const odd = b < i ? (run + (this.escapeNext ? 1 : 0)) % 2 === 1 : run % 2 === 1;
      if (q === -1) {
        this.escapeNext = odd;
        return -1;
      }
      if (!odd) {
        this.escapeNext = false;
        return q;
      }
      this.escapeNext = false;
      i = q + 1;
      if (i >= n) return -1;
    }
  }

  private keepPiece(piece: Buffer): void {
    this.strPieceBytes += piece.length;
    if (this.strPieceBytes > KEY_CAPTURE_BYTES) {
      this.strPieces = null;
      return;
    }
    (this.strPieces ??= []).push(piece);
  }

  private closeString(buf: Buffer, end: number): void {
    // A long string's backslashes were jumped over: one (amortized) native search makes the flag exact.
    if (this.strLong && !this.strBackslash && this.backslashIn(buf, this.strStart, end)) this.strBackslash = true;
    this.lastBackslash = this.strBackslash;
    if (this.strPieceBytes === 0) {
      this.lastBuf = buf;
      this.lastStart = this.strStart;
      this.lastEnd = end;
      this.lastBytes = end - this.strStart;
      return;
    }
    // Split across buffers (rare): joined only when short enough to be a key worth testing.
    const total = this.strPieceBytes + (end - this.strStart);
    this.lastBytes = total;
    if (total > KEY_CAPTURE_BYTES || this.strPieces === null) {
      this.lastBuf = null;
      this.lastBytes = Math.max(total, KEY_CAPTURE_BYTES + 1);
      return;
    }
    this.lastBuf = Buffer.concat([...this.strPieces, buf.subarray(this.strStart, end)], total);
    this.lastStart = 0;
    this.lastEnd = total;
    this.strPieces = null;
    this.strPieceBytes = 0;
  }

  /**
   * The last string as the string path would test it as a key: null when it cannot be a
   * forbidden key, undefined when only the string path can tell (a bad escape, a long escaped key).
   */
  private lastKey(): string | null | undefined {
    const length = this.lastBytes;
    if (!this.lastBackslash) {
      // Forbidden keys are ASCII: 9 or 11 bytes, starting with one of their first letters.
      if (length !== 9 && length !== 11) return null;
      const first = this.lastBuf![this.lastStart];
      if (first !== UNDERSCORE && first !== LOWER_C && first !== LOWER_P) return null;
      return this.lastBuf!.toString('latin1', this.lastStart, this.lastEnd);
    }
    if (length < MIN_ESCAPED_KEY_LENGTH) return null;
    if (length > KEY_CAPTURE_BYTES || this.lastBuf === null) return undefined;
    try {
      const key: unknown = JSON.parse(`"${this.lastBuf.toString('utf8', this.lastStart, this.lastEnd)}"`);
      return typeof key === 'string' ? key : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether buf[from, to) holds a backslash; amortized linear over one buffer searched left to right. */
  private backslashIn(buf: Buffer, from: number, to: number): boolean {
    if (this.bsBuf !== buf || (this.bsPos !== -1 && this.bsPos < from)) {
      this.bsBuf = buf;
      this.bsPos = buf.indexOf(BACKSLASH, from);
    }
    return this.bsPos !== -1 && this.bsPos < to;
  }

  private violate(i: number, reason: string, buf: Buffer): void {
    this.settle({ ok: false, code: 'BRIDGE_ERR_JSON_LIMITS', reason, params: { reason } }, buf, i);
  }

  /** Records the violation at `buf[i]`; final unless a `}` came before it (then pending until one follows). */
  private settle(verdict: Extract<JsonLineResult, { ok: false }>, buf: Buffer, i: number): void {
    this.verdict = verdict;
    this.done = true;
    const first = buf.indexOf(CLOSE_BRACE);
    const before = this.braceSeen || (first !== -1 && first < i);
    this.pending = before && buf.indexOf(CLOSE_BRACE, i + 1) === -1;
    // Nothing of the line is needed any more.
    this.lastBuf = null;
    this.strPieces = null;
  }
}
