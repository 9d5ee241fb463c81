/** A line as the connection delivered it: the parsed JSON part and the raw payload after it. */
export interface Line {
  readonly value: unknown;
  readonly raw: string;
}

/** The JSON part is small next to a payload; a fixed allowance stands for it (it was parsed already). */
const JSON_PART_ALLOWANCE = 512;

/**
 * Lines a session holds until its handshake is decided: those a v3.3 script's offline queue
 * sends before its handshake (`early`, bounded by count and bytes, docs/protocol.md §2) and those
 * written right behind the handshake while it is being decided (`behind`, bounded by reading
 * being paused). `drain` hands them out in arrival order, early first.
 */
export class HeldLines {
  private early: Line[] = [];
  private earlyBytes = 0;
  private behind: Line[] = [];

  constructor(
    private readonly maxEarlyLines: number,
    private readonly maxEarlyBytes: number,
  ) {}

  get earlyCount(): number {
    return this.early.length;
  }

  get earlyByteCount(): number {
    return this.earlyBytes;
  }

  /** False when the line would pass the bounds: the caller counts and logs it. */
  holdEarly(line: Line): boolean {
    const bytes = line.raw.length + JSON_PART_ALLOWANCE;
    if (this.early.length >= this.maxEarlyLines || this.earlyBytes + bytes > this.maxEarlyBytes) return false;
    this.early.push(line);
    this.earlyBytes += bytes;
    return true;
  }

  holdBehind(line: Line): void {
    this.behind.push(line);
  }

  drain(): Line[] {
    const lines = this.early.length > 0 ? [...this.early, ...this.behind] : this.behind;
    this.clear();
    return lines;
  }

  clear(): void {
    this.early = [];
    this.earlyBytes = 0;
    this.behind = [];
  }
}
