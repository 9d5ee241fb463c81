import type { BotConfigIssue, BotConfigProvider, Logger } from '@botbridge/sdk';
import type { BotFiles } from './bot-files.js';

interface Known {
  /** The text last read (applied or refused), so an unchanged file is not applied or reported again. */
  text: string | null;
  mtimeMs: number;
  size: number;
}

/** Says what the file is; JSON has no comments, so this key is the one place for a hint. */
export function commentFor(botName: string): string {
  return (
    `botbridge settings of bot "${botName}". Saved edits apply at once, without a restart. ` +
    'An invalid edit is refused as a whole (the log names every problem) and the previous settings stay. ' +
    'core: replyGapMs, rooms.<channelId>.{concurrency, ordered}; plugins.<name>: that plugin\'s settings. See docs/plugins.md.'
  );
}

/**
 * Reads, validates and applies per-bot files through the bridge's per-bot config provider, and
 * writes a file of defaults for a bot seen the first time. Work on one bot is serialised (a
 * handshake, a watch event and a scan may race for the same file); different bots go in
 * parallel. Nothing here throws to the caller: every failure is logged with the bot and file.
 */
export class BotConfigLoader {
  private readonly known = new Map<string, Known>();
  private readonly chains = new Map<string, Promise<void>>();
  private overLimit = false;

  constructor(
    private readonly deps: {
      readonly provider: BotConfigProvider;
      readonly files: BotFiles;
      readonly log: Logger;
      readonly generate: boolean;
      readonly maxBots: number;
    },
  ) {}

  /** Applies the file of every bot in the folder (at start). */
  async loadAll(): Promise<void> {
    for (const botName of await this.deps.files.list()) await this.reload(botName);
  }

  /** A bot connected: apply its file, or write one of defaults when it has none. */
  ensure(botName: string): Promise<void> {
    if (botName.length === 0 || this.loaded(botName)) return Promise.resolve();
    return this.serial(botName, async () => {
      if (this.loaded(botName)) return;
      if ((await this.deps.files.stat(botName)) !== null) return this.load(botName);
      if (!this.deps.generate) return;
      if (this.known.size >= this.deps.maxBots) {
        if (!this.overLimit) this.deps.log.warn({ botName, maxBots: this.deps.maxBots }, 'bot config files at their limit (maxBots): new bots run on the defaults without a file');
        this.overLimit = true;
        return;
      }
      const file = this.deps.files.pathOf(botName);
      const text = `${JSON.stringify({ $comment: commentFor(botName), ...this.deps.provider.defaults(botName) }, null, 2)}\n`;
      const written = await this.deps.files.write(botName, text);
      this.known.set(botName, { text, ...written });
      this.deps.provider.apply(botName, JSON.parse(text));
      this.deps.log.info({ botName, file }, 'bot config file created with the defaults');
    });
  }

  /** The file may have changed (a watch event): read it again. */
  reload(botName: string): Promise<void> {
    return this.serial(botName, () => this.load(botName));
  }

  /** Re-reads files whose size or mtime changed, new files, and removed ones (the fs.watch fallback). */
  async scan(): Promise<void> {
    const present = new Set(await this.deps.files.list());
    for (const botName of new Set([...present, ...this.known.keys()])) {
      const info = present.has(botName) ? await this.deps.files.stat(botName) : null;
      const known = this.known.get(botName);
      if (info === null ? known?.text !== null : known === undefined || known.mtimeMs !== info.mtimeMs || known.size !== info.size) {
        await this.reload(botName);
      }
    }
  }

  /** A file of this bot was read (a removed file does not count: the bot gets a new one). */
  private loaded(botName: string): boolean {
    const known = this.known.get(botName);
    return known !== undefined && known.text !== null;
  }

  private async load(botName: string): Promise<void> {
    const file = this.deps.files.pathOf(botName);
    const log = this.deps.log;
    let state;
    try {
      state = await this.deps.files.read(botName);
    } catch (error) {
      log.error({ botName, file, err: error instanceof Error ? error.message : String(error) }, 'bot config file unreadable; keeping the previous settings');
      return;
    }
    const known = this.known.get(botName);
    if (state === null) {
      if (known === undefined || known.text === null) return;
      this.known.set(botName, { text: null, mtimeMs: 0, size: 0 });
      this.deps.provider.reset(botName);
      log.warn({ botName, file }, 'bot config file removed: the bot runs on the defaults (a new file is written when it connects again)');
      return;
    }
    this.known.set(botName, { ...state });
    if (known?.text === state.text) return;

    let document: unknown;
    try {
      document = JSON.parse(state.text);
    } catch (error) {
      this.refused(botName, file, [{ plugin: null, path: '(file)', message: jsonErrorMessage(state.text, error) }]);
      return;
    }
    const result = this.deps.provider.apply(botName, document);
    for (const warning of result.warnings) {
      log.warn({ botName, file, section: warning.plugin, path: warning.path }, `bot config: ${warning.path}: ${warning.message}`);
    }
    if (result.ok) log.info({ botName, file }, 'bot config applied');
    else this.refused(botName, file, result.issues);
  }

  private refused(botName: string, file: string, issues: readonly BotConfigIssue[]): void {
    // `section`, not `plugin`: this logger already binds `plugin` (auto-config), and pino writes
    // a bound key and a logged key twice (`"plugin":"auto-config",…,"plugin":null`).
    for (const issue of issues) {
      this.deps.log.error(
        { botName, file, section: issue.plugin, path: issue.path, issue: issue.message },
        `invalid bot config at ${issue.path}${issue.plugin === null ? '' : ` (plugin ${issue.plugin})`}: ${issue.message}`,
      );
    }
    this.deps.log.error({ botName, file, issues: issues.length }, 'bot config edit refused; the previous settings stay in effect');
  }

  private serial(botName: string, work: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(botName) ?? Promise.resolve();
    const next = previous.then(work).catch((error: unknown) => {
      this.deps.log.error({ botName, err: error instanceof Error ? error.message : String(error) }, 'bot config file handling failed');
    });
    this.chains.set(botName, next);
    void next.then(() => {
      if (this.chains.get(botName) === next) this.chains.delete(botName);
    });
    return next;
  }
}

/** JSON.parse's message with the line and column of its position (Node 20 gives only the offset). */
function jsonErrorMessage(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /position (\d+)/.exec(message);
  if (position === null || /line \d+/.test(message)) return `not valid JSON: ${message}`;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `not valid JSON: ${message} (line ${line}, column ${column})`;
}
