/**
 * NDJSON framing for the bench's own processes (generator, echo baseline): the socket is set to
 * UTF-8 so the decoder keeps multi-byte characters split across chunks whole, and lines are cut
 * on `\n` (a trailing `\r` is dropped, as the script's readLine would). A partial line longer
 * than `limit` characters means the peer is broken: `onOverflow` is called and input is dropped.
 */
export class LineReader {
  private rest = '';
  private failed = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly limit: number = 1_048_576,
    private readonly onOverflow: () => void = () => {},
  ) {}

  push(chunk: string): void {
    if (this.failed) return;
    const data = this.rest.length > 0 ? this.rest + chunk : chunk;
    let start = 0;
    for (let nl = data.indexOf('\n'); nl !== -1; nl = data.indexOf('\n', start)) {
      const end = nl > start && data.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end > start) this.onLine(data.slice(start, end));
      start = nl + 1;
      if (this.failed) return;
    }
    this.rest = start < data.length ? data.slice(start) : '';
    if (this.rest.length > this.limit) {
      this.failed = true;
      this.rest = '';
      this.onOverflow();
    }
  }

  /** Stops delivery (the connection is closing). */
  stop(): void {
    this.failed = true;
    this.rest = '';
  }
}
