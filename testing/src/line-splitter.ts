import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines the way the script's `BufferedReader.readLine()` does: a line
 * ends at `\n`, `\r\n` or `\r`; no size limit; a final unterminated line is still returned at
 * end of stream. A `\r` at the end of one chunk and `\n` at the start of the next are one
 * terminator, not an empty line in between.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';
  #skipLF = false;

  /** Feeds bytes; returns the lines they complete. */
  push(chunk: Buffer): string[] {
    const text = this.#decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (this.#skipLF) {
        this.#skipLF = false;
        if (code === 0x0a) {
          start = i + 1;
          continue;
        }
      }
      if (code === 0x0a || code === 0x0d) {
        lines.push(this.#partial + text.slice(start, i));
        this.#partial = '';
        start = i + 1;
        this.#skipLF = code === 0x0d;
      }
    }
    this.#partial += text.slice(start);
    return lines;
  }

  /** End of stream: the unterminated rest, if any. */
  end(): string | undefined {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = '';
    return rest.length > 0 ? rest : undefined;
  }
}
