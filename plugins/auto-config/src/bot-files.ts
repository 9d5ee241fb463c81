import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const SUFFIX = '.json';
/** Kept as they are in a file name: letters (Hangul included), digits, `.`, `_`, `-`. */
const SAFE = /^[\p{L}\p{N}._-]$/u;

/**
 * Bot name ⇄ file name. A bot name comes from a handshake, so it may hold anything: every
 * character outside letters, digits, `.`, `_` and `-` is written as %XX (UTF-8, like
 * encodeURIComponent), as is a leading dot, so a name can never reach outside the folder
 * (`../x`) or make a hidden file.
 */
export function fileNameOf(botName: string): string {
  let out = '';
  for (const char of botName) {
    out += SAFE.test(char) && !(out.length === 0 && char === '.') ? char : encodeChar(char);
  }
  return out + SUFFIX;
}

function encodeChar(char: string): string {
  try {
    return encodeURIComponent(char).replace(/[!'()*.~]/g, hex);
  } catch {
    // A lone surrogate (valid in JSON, not in UTF-8): its file can be written, never found by a scan.
    return `%u${char.charCodeAt(0).toString(16)}`;
  }
}

/** The bot a file name belongs to, or undefined for files that are not a bot's (temp files, others). */
export function botNameOf(fileName: string): string | undefined {
  if (!fileName.endsWith(SUFFIX) || fileName.startsWith('.')) return undefined;
  try {
    const name = decodeURIComponent(fileName.slice(0, -SUFFIX.length));
    return name.length > 0 && fileNameOf(name) === fileName ? name : undefined;
  } catch {
    return undefined;
  }
}

function hex(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

export interface FileState {
  readonly text: string;
  readonly mtimeMs: number;
  readonly size: number;
}

/** The per-bot files of one folder. */
export class BotFiles {
  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  pathOf(botName: string): string {
    return join(this.dir, fileNameOf(botName));
  }

  /** Bots with a file in the folder now. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.map(botNameOf).filter((name): name is string => name !== undefined);
  }

  /** mtime and size, or null when there is no file. */
  async stat(botName: string): Promise<{ mtimeMs: number; size: number } | null> {
    try {
      const info = await stat(this.pathOf(botName));
      return { mtimeMs: info.mtimeMs, size: info.size };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** The file's text, or null when there is none. Refuses a file larger than the limit. */
  async read(botName: string): Promise<FileState | null> {
    let handle;
    try {
      handle = await open(this.pathOf(botName), 'r');
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    try {
      const info = await handle.stat();
      if (info.size > this.maxBytes) throw new Error(`file is ${info.size} bytes, more than the ${this.maxBytes} allowed`);
      const text = await handle.readFile('utf8');
      return { text, mtimeMs: info.mtimeMs, size: info.size };
    } finally {
      await handle.close();
    }
  }

  /**
   * Writes through a temp file and a rename, so a reader (an editor, the watcher) never sees a
   * half-written file. The temp name starts with a dot: scans skip it.
   */
  async write(botName: string, text: string): Promise<{ mtimeMs: number; size: number }> {
    const target = this.pathOf(botName);
    const temp = join(this.dir, `.${fileNameOf(botName)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeFile(temp, text, { encoding: 'utf8', flag: 'wx' });
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    const info = await stat(target);
    return { mtimeMs: info.mtimeMs, size: info.size };
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
