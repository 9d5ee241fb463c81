import type { JsonBytePrescan } from './byte-prescan.js';
import type { JsonLineResult } from './safe-json.js';

const LF = 0x0a;
const CR = 0x0d;

export interface LineTooLong {
  readonly limit: number;
  /** Bytes of the offending line seen so far (it may not have ended yet). */
  readonly bytes: number;
}

export interface LineSplitterOptions {
  /** Max bytes of one line including its `\n`. */
  readonly limit: number;
  /** `prescanned`: the byte prescan ran over the whole line and found nothing (JsonBytePrescan.clean). */
  readonly onLine: (line: string, prescanned: boolean) => void;
  /** Called once; the splitter then discards its buffers and delivers nothing more. */
  readonly onError: (code: 'BRIDGE_ERR_LINE_TOO_LONG', params: LineTooLong) => void;
  /**
   * Optional: the JSON prescan run on each line's bytes as they arrive (byte-prescan.ts). A line
   * it rejects is never joined or decoded: its bytes are dropped as they come (still counted
   * against the limit) and, at its `\n`, `onRejected` is called in its place, in line order.
   */
  readonly prescan?: JsonBytePrescan;
  readonly onRejected?: (rejected: Extract<JsonLineResult, { ok: false }>) => void;
  /**
   * A line that arrives whole in one chunk and has at most this many bytes skips the byte
   * prescan (delivered with `prescanned: false`, so the string prescan checks it after its
   * decoding, which costs less at that size). Default 0: every line is scanned. Lines that span
   * chunks are always scanned as they arrive, so a long hostile line is still never joined.
   */
  readonly prescanShortLinesAbove?: number;
}

/**
 * Incremental NDJSON framing (PROTOCOL.md §1). Lines are decoded as UTF-8 only once complete, so
 * a multi-byte character split across chunks is safe. A trailing `\r` is stripped (`\r\n`).
 *
 * Memory: a partial line is kept as the list of chunk views it spans (no concat until its `\n`
 * arrives) and is rejected as soon as it reaches the limit, so at most limit + one chunk is held.
 * Only new bytes are searched for `\n`; the partial is known to hold none.
 *
 * Scanning is lazy: after `pause()` (possibly called from inside `onLine`) the rest of the current
 * chunk is kept unscanned and resumes line by line on `resume()`. Nothing already received is
 * dropped, and a `setLimit()` made while paused applies to every line not yet delivered (the
 * session raises the limit after the handshake while later packets may share its chunk).
 */
export class LineSplitter {
  private limit: number;
  private readonly onLine: (line: string, prescanned: boolean) => void;
  private readonly onError: LineSplitterOptions['onError'];
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private unscanned: Buffer[] = [];
  private unscannedBytes = 0;
  private paused = false;
  private failed = false;
  private readonly prescan: JsonBytePrescan | undefined;
  private readonly onRejected: LineSplitterOptions['onRejected'];
  /** The current line was rejected by the prescan: its bytes are counted, not kept. */
  private skipping: Extract<JsonLineResult, { ok: false }> | undefined;
  /** Whether the line just finished was scanned clean by the prescan. */
  private lastClean = false;
  private readonly shortLineBytes: number;

  constructor(options: LineSplitterOptions) {
    this.limit = options.limit;
    this.onLine = options.onLine;
    this.onError = options.onError;
    this.prescan = options.onRejected === undefined ? undefined : options.prescan;
    this.onRejected = options.onRejected;
    this.shortLineBytes = options.prescanShortLinesAbove ?? 0;
    this.prescan?.reset();
  }

  setLimit(bytes: number): void {
    this.limit = bytes;
  }

  get currentLimit(): number {
    return this.limit;
  }

  /** Bytes held for a partial line plus bytes received but not yet scanned (while paused). */
  get bufferedBytes(): number {
    // A line the prescan rejected is counted against the limit but not held.
    return (this.skipping === undefined ? this.partialBytes : 0) + this.unscannedBytes;
  }

  get isFailed(): boolean {
    return this.failed;
  }

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    if (this.paused) {
      this.unscanned.push(chunk);
      this.unscannedBytes += chunk.length;
      return;
    }
    this.scan(chunk);
  }

  pause(): void {
    this.paused = true;
  }

  /** Delivers held lines synchronously; stops again if a line handler pauses. */
  resume(): void {
    this.paused = false;
    while (!this.paused && !this.failed && this.unscanned.length > 0) {
      const chunk = this.unscanned.shift()!;
      this.unscannedBytes -= chunk.length;
      this.scan(chunk);
    }
  }

  /** Stops delivery for good (the connection is closing) and releases the buffers. */
  stop(): void {
    this.failed = true;
    this.release();
  }

  private scan(chunk: Buffer): void {
    let pos = 0;
    while (!this.paused && !this.failed) {
      const nl = chunk.indexOf(LF, pos);
      if (nl === -1) {
        this.keepPartial(chunk, pos);
        return;
      }
      const lineBytes = this.partialBytes + (nl - pos) + 1;
      if (lineBytes > this.limit) {
        this.fail(lineBytes);
        return;
      }
      const rejected = this.prescanLine(chunk, pos, nl);
      const prescanned = this.lastClean;
      if (rejected !== undefined) {
        this.partial = [];
        this.partialBytes = 0;
        pos = nl + 1;
        this.onRejected!(rejected);
        continue;
      }
      const line = this.partialBytes === 0 ? decodeRange(chunk, pos, nl) : this.joinPartial(chunk.subarray(pos, nl));
      pos = nl + 1;
      if (line.length > 0) this.onLine(line, prescanned);
    }
    if (this.paused && !this.failed && pos < chunk.length) {
      this.unscanned.unshift(chunk.subarray(pos));
      this.unscannedBytes += chunk.length - pos;
    }
  }

  private keepPartial(chunk: Buffer, pos: number): void {
    const rest = chunk.length - pos;
    if (rest === 0) return;
    // A partial of `limit` bytes cannot end in a line of at most `limit` bytes incl. `\n`.
    if (this.partialBytes + rest >= this.limit) {
      this.fail(this.partialBytes + rest);
      return;
    }
    this.partialBytes += rest;
    if (this.skipping !== undefined) return;
    const tail = pos === 0 ? chunk : chunk.subarray(pos);
    if (this.prescan !== undefined) {
      this.prescan.feed(tail);
      const verdict = this.prescan.result;
      if (verdict !== undefined) {
        // Rejected before its end: drop what is held and only count the rest.
        this.skipping = verdict.rejected;
        this.partial = [];
        return;
      }
    }
    this.partial.push(tail);
  }

  /** Finishes the prescan of a line ending at `nl`; its rejection, if any (the prescan is reset). */
  private prescanLine(chunk: Buffer, pos: number, nl: number): Extract<JsonLineResult, { ok: false }> | undefined {
    if (this.prescan === undefined) return undefined;
    this.lastClean = false;
    // Whole in this chunk (nothing of it fed yet) and short: left to the string prescan.
    if (this.partialBytes === 0 && nl - pos <= this.shortLineBytes) return undefined;
    let rejected = this.skipping;
    if (rejected === undefined) {
      if (nl > pos) this.prescan.feed(chunk.subarray(pos, nl));
      rejected = this.prescan.result?.rejected;
      this.lastClean = this.prescan.clean;
    }
    this.skipping = undefined;
    this.prescan.reset();
    // A blank line is skipped, never rejected (as onLine would skip it).
    return rejected;
  }

  private joinPartial(tail: Buffer): string {
    this.partial.push(tail);
    const joined = Buffer.concat(this.partial, this.partialBytes + tail.length);
    this.partial = [];
    this.partialBytes = 0;
    return decodeRange(joined, 0, joined.length);
  }

  private fail(bytes: number): void {
    this.failed = true;
    this.release();
    this.onError('BRIDGE_ERR_LINE_TOO_LONG', { limit: this.limit, bytes });
  }

  private release(): void {
    this.skipping = undefined;
    this.partial = [];
    this.partialBytes = 0;
    this.unscanned = [];
    this.unscannedBytes = 0;
  }
}

function decodeRange(buf: Buffer, start: number, end: number): string {
  if (end > start && buf[end - 1] === CR) end -= 1;
  return end > start ? buf.toString('utf8', start, end) : '';
}
