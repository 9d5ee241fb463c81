import { DEFAULT_MAX_ARRAY_ITEMS, DEFAULT_MAX_TOKENS, FORBIDDEN_KEYS, type JsonLimits, type JsonLineResult } from './safe-json.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** Keys longer than this (bytes) are not kept for the forbidden-key test: `\u0063onstructor` spelt all in escapes is 66. */
const KEY_CAPTURE_BYTES = 256;

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
  /** Inside a string: the backslash run ending just before the next byte to scan is odd. */
  private escapeOdd = false;
  private strBytes = 0;
  private strBackslash = false;
  private readonly strBuf = Buffer.allocUnsafe(KEY_CAPTURE_BYTES);
  /** The last closed string literal (when a ':' follows it, it was a key). */
  private lastBytes = -1;
  private lastBackslash = false;
  private readonly lastBuf = Buffer.allocUnsafe(KEY_CAPTURE_BYTES);
  /** Whether an earlier chunk of the line held a `}` (in a string or not). */
  private braceSeen = false;
  /** Cached position of the next backslash in `bsBuf` at or after the last query (-1: none). */
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
    this.escapeOdd = false;
    this.strBytes = 0;
    this.strBackslash = false;
    this.lastBytes = -1;
    this.lastBackslash = false;
    this.braceSeen = false;
    this.bsBuf = undefined;
    this.verdict = undefined;
    this.pending = false;
    this.done = false;
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
    let i = 0;
    while (i < n) {
      if (this.inString) {
        const q = buf.indexOf(QUOTE, i);
        const end = q === -1 ? n : q;
        this.capture(buf, i, end);
        // The backslash run ending at `end`, joined to the one before `i` when it spans [i, end).
        let b = end - 1;
        while (b >= i && buf[b] === BACKSLASH) b -= 1;
        let odd = (end - 1 - b) % 2 === 1;
        if (b < i) odd = odd !== this.escapeOdd;
        if (q === -1) {
          this.escapeOdd = odd;
          break;
        }
        if (odd) {
          // An escaped quote: part of the string.
          this.capture(buf, q, q + 1);
          this.escapeOdd = false;
          i = q + 1;
          continue;
        }
        this.inString = false;
        this.escapeOdd = false;
        if (++this.tokens > this.maxTokens) return this.violate(q, `more than ${this.maxTokens} tokens`, buf);
        this.lastBytes = this.strBytes;
        this.lastBackslash = this.strBackslash;
        if (this.strBytes <= KEY_CAPTURE_BYTES) this.strBuf.copy(this.lastBuf, 0, 0, this.strBytes);
        i = q + 1;
        continue;
      }
      const c = buf[i]!;
      if (c === QUOTE) {
        this.inString = true;
        this.escapeOdd = false;
        this.strBytes = 0;
        this.strBackslash = false;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++this.depth > this.maxDepth) return this.violate(i, `nesting deeper than ${this.maxDepth}`, buf);
        if (++this.tokens > this.maxTokens) return this.violate(i, `more than ${this.maxTokens} tokens`, buf);
        this.items.push(c === OPEN_BRACKET ? 1 : -1);
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (c === CLOSE_BRACE) this.braceSeen = true;
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
          if (key === undefined) return this.giveUp(buf);
          if (FORBIDDEN_KEYS.has(key)) {
            return this.settle({ ok: false, code: 'BRIDGE_ERR_JSON_POISON', reason: `forbidden key ${key}`, params: { key } }, buf, i);
          }
        }
      }
      i += 1;
    }
    if (!this.braceSeen && buf.includes(CLOSE_BRACE)) this.braceSeen = true;
  }

  /** The last string as the string path would read it as a key; undefined when only the string path can tell. */
  private lastKey(): string | undefined {
    if (this.lastBytes > KEY_CAPTURE_BYTES) return this.lastBackslash ? undefined : '';
    const text = this.lastBuf.toString('utf8', 0, this.lastBytes);
    if (!this.lastBackslash) return text;
    try {
      const key: unknown = JSON.parse(`"${text}"`);
      return typeof key === 'string' ? key : undefined;
    } catch {
      return undefined;
    }
  }

  private capture(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (!this.strBackslash && this.backslashIn(buf, from, to)) this.strBackslash = true;
    if (this.strBytes + (to - from) <= KEY_CAPTURE_BYTES) buf.copy(this.strBuf, this.strBytes, from, to);
    this.strBytes += to - from;
  }

  /** Whether buf[from, to) holds a backslash; amortized linear over one buffer scanned left to right. */
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
  }

  private giveUp(_buf: Buffer): void {
    this.done = true;
  }
}
