/** The label of lines that are no command. */
export const NO_COMMAND = '(none)';
/** The label of commands beyond the distinct-label limit. */
export const OTHER_COMMAND = '(other)';

/**
 * Names the command of a chat line (`# echo hi` → `# echo`) for metrics and summaries. Users
 * can type any word after a prefix, so only the first `limit` distinct commands get their own
 * label; later ones share `(other)`: a metric label per typed word would grow without bound.
 */
export class CommandLabels {
  private readonly seen = new Set<string>();

  constructor(
    private readonly prefixes: readonly string[],
    private readonly limit: number,
  ) {}

  /** The command word with its prefix, or null for a line that is no command. */
  commandOf(text: string): string | null {
    for (const prefix of this.prefixes) {
      if (!text.startsWith(prefix)) continue;
      const word = /^\s*(\S+)/.exec(text.slice(prefix.length))?.[1];
      if (word === undefined) continue;
      const command = `${prefix} ${word.slice(0, 40)}`;
      if (this.seen.has(command)) return command;
      if (this.seen.size >= this.limit) return OTHER_COMMAND;
      this.seen.add(command);
      return command;
    }
    return null;
  }
}
