/**
 * The dashboard's log tail: the most recent log lines, kept in memory in two bounded rings
 * (every line at info and above, and warn and above on their own, so a burst of info lines does
 * not push the last warnings out). It is fed the lines the logger writes, after pino's
 * redaction; reading scrubs them once more (token-looking URL parameters, bearer headers and
 * the secrets registered with `addSecret`, such as the admin token), because a message text
 * is not covered by redaction paths.
 */

export const LEVELS: Readonly<Record<string, number>> = Object.freeze({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 });
const NAMES = new Map(Object.entries(LEVELS).map(([name, value]) => [value, name]));
/** The lowest level kept. */
const KEPT_LEVEL = LEVELS.info!;
const IMPORTANT_LEVEL = LEVELS.warn!;

export interface LogTailOptions {
  /** Lines kept at info and above (default 500). */
  readonly capacity?: number;
  /** Lines kept at warn and above (default 200). */
  readonly importantCapacity?: number;
  /** Longer lines are cut (default 4 KiB). */
  readonly maxLineChars?: number;
}

export interface LogTailLine {
  /** Increasing per line; a reader asks for lines `after` the last one it saw. */
  readonly seq: number;
  readonly level: string;
  /** Epoch ms. */
  readonly time: number;
  readonly msg: string;
  /** The line's other fields (category, plugin, err, ...), without pino's own. */
  readonly fields: Record<string, unknown>;
}

export interface LogTailQuery {
  readonly level?: string;
  readonly after?: number;
  readonly limit?: number;
}

interface Entry {
  readonly seq: number;
  readonly level: number;
  readonly raw: string;
}

class Ring {
  private readonly items: (Entry | undefined)[];
  private next = 0;
  private count = 0;

  constructor(private readonly capacity: number) {
    this.items = new Array<Entry | undefined>(capacity);
  }

  push(entry: Entry): void {
    this.items[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Oldest first. */
  toArray(): Entry[] {
    const out: Entry[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i += 1) out.push(this.items[(start + i) % this.capacity]!);
    return out;
  }
}

const OWN_FIELDS = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);
const LEVEL_PREFIX = /^\{"level":(\d+)/;
const URL_TOKEN = /([?&#;]token=)[^&"\s\\]+/gi;
const BEARER = /(bearer\s+)[\w.~+/=-]+/gi;

export class LogTail {
  private readonly all: Ring;
  private readonly important: Ring;
  private readonly maxLineChars: number;
  private readonly secrets = new Set<string>();
  private seq = 0;

  constructor(options: LogTailOptions = {}) {
    this.all = new Ring(options.capacity ?? 500);
    this.important = new Ring(options.importantCapacity ?? 200);
    this.maxLineChars = options.maxLineChars ?? 4_096;
  }

  /**
   * One pino line (JSON, level first). Cheap: the level is read from the line's prefix and
   * the line is parsed only when someone reads the tail.
   */
  write(line: string): void {
    const match = LEVEL_PREFIX.exec(line);
    const level = match === null ? KEPT_LEVEL : Number(match[1]);
    if (level < KEPT_LEVEL) return;
    this.seq += 1;
    const entry = { seq: this.seq, level, raw: line.length > this.maxLineChars ? line.slice(0, this.maxLineChars) : line };
    this.all.push(entry);
    if (level >= IMPORTANT_LEVEL) this.important.push(entry);
  }

  /** A value that must never be shown (the admin token): replaced wherever it appears. */
  addSecret(secret: string): () => void {
    if (secret.length >= 8) this.secrets.add(secret);
    return () => this.secrets.delete(secret);
  }

  /** Lines at `level` (default warn) and above after `after`, oldest first, at most `limit` (the newest). */
  read(query: LogTailQuery = {}): LogTailLine[] {
    const min = LEVELS[query.level ?? 'warn'] ?? IMPORTANT_LEVEL;
    const after = query.after ?? 0;
    const source = min >= IMPORTANT_LEVEL ? this.important : this.all;
    const picked = source.toArray().filter((entry) => entry.level >= min && entry.seq > after);
    return picked.slice(-(query.limit ?? 200)).map((entry) => this.render(entry));
  }

  private render(entry: Entry): LogTailLine {
    const raw = this.scrub(entry.raw);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // A line cut at maxLineChars: shown as text.
      return { seq: entry.seq, level: NAMES.get(entry.level) ?? String(entry.level), time: 0, msg: `${raw} …`, fields: {} };
    }
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(parsed)) if (!OWN_FIELDS.has(key)) fields[key] = value;
    return {
      seq: entry.seq,
      level: NAMES.get(entry.level) ?? String(entry.level),
      time: typeof parsed.time === 'number' ? parsed.time : 0,
      msg: typeof parsed.msg === 'string' ? parsed.msg : '',
      fields,
    };
  }

  private scrub(raw: string): string {
    let out = raw.replace(URL_TOKEN, '$1[redacted]').replace(BEARER, '$1[redacted]');
    for (const secret of this.secrets) out = out.replaceAll(secret, '[redacted]');
    // A secret as it appears inside a JSON string (escaped characters) or URL-encoded.
    for (const secret of this.secrets) {
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (escaped !== secret) out = out.replaceAll(escaped, '[redacted]');
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) out = out.replaceAll(encoded, '[redacted]');
    }
    return out;
  }
}

const tails = new WeakMap<object, LogTail>();

/** Remembers the tail of a logger made by createLogger (the admin server looks it up). */
export function attachLogTail(logger: object, tail: LogTail): void {
  tails.set(logger, tail);
}

/** The tail of a logger made by createLogger; null for a logger made elsewhere. */
export function logTailOf(logger: object): LogTail | null {
  return tails.get(logger) ?? null;
}

interface Destination {
  write(line: string): unknown;
  flush?(cb: (error?: Error) => void): void;
  flushSync?(): void;
}

/** A pino destination that writes to `main` and hands each line to the tail too; flushes go to `main`. */
export function teeToTail(main: Destination, tail: LogTail): Destination & { flush(cb: (error?: Error) => void): void; flushSync(): void } {
  return {
    write(line: string) {
      main.write(line);
      tail.write(line);
    },
    flush(cb) {
      if (typeof main.flush === 'function') main.flush(cb);
      else cb();
    },
    flushSync() {
      main.flushSync?.();
    },
  };
}
