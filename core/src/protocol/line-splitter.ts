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
  readonly onLine: (line: string) => void;
  /** Called once; the splitter then discards its buffers and delivers nothing more. */
  readonly onError: (code: 'BRIDGE_ERR_LINE_TOO_LONG', params: LineTooLong) => void;
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
  private readonly onLine: (line: string) => void;
  private readonly onError: LineSplitterOptions['onError'];
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private unscanned: Buffer[] = [];
  private unscannedBytes = 0;
  private paused = false;
  private failed = false;

  constructor(options: LineSplitterOptions) {
    this.limit = options.limit;
    this.onLine = options.onLine;
    this.onError = options.onError;
  }

  setLimit(bytes: number): void {
    this.limit = bytes;
  }

  get currentLimit(): number {
    return this.limit;
  }

  /** Bytes held for a partial line plus bytes received but not yet scanned (while paused). */
  get bufferedBytes(): number {
    return this.partialBytes + this.unscannedBytes;
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
      const line = this.partialBytes === 0 ? decodeRange(chunk, pos, nl) : this.joinPartial(chunk.subarray(pos, nl));
      pos = nl + 1;
      if (line.length > 0) this.onLine(line);
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
    this.partial.push(pos === 0 ? chunk : chunk.subarray(pos));
    this.partialBytes += rest;
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
