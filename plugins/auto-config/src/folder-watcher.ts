import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '@botbridge/sdk';
import { botNameOf } from './bot-files.js';

export interface FolderWatcherOptions {
  readonly dir: string;
  readonly debounceMs: number;
  /** A bot's file changed and has been quiet for `debounceMs`. */
  readonly onChange: (botName: string) => void;
  /** The platform did not say which file changed: look at all of them. */
  readonly onUnknownChange: () => void;
  readonly log: Logger;
}

/**
 * Watches the folder, not each file: editors save by writing a new file and renaming it over
 * the old one, which ends a watch on the file itself. Events of one file are debounced (an
 * editor's save is several events). fs.watch is not reliable everywhere (network mounts, some
 * containers), so the plugin also scans the folder periodically; a watcher that fails is
 * closed and the scan carries on alone.
 */
export class FolderWatcher {
  private readonly watcher: FSWatcher | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly options: FolderWatcherOptions) {
    try {
      this.watcher = watch(options.dir, { persistent: false }, (_event, fileName) => this.changed(fileName));
      this.watcher.on('error', (error) => {
        options.log.warn({ dir: options.dir, err: error.message }, 'watching the bot config folder failed; changes are picked up by the periodic scan');
        this.close();
      });
    } catch (error) {
      options.log.warn({ dir: options.dir, err: (error as Error).message }, 'cannot watch the bot config folder; changes are picked up by the periodic scan');
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private changed(fileName: string | Buffer | null): void {
    if (this.closed) return;
    if (fileName === null) {
      this.debounce('', () => this.options.onUnknownChange());
      return;
    }
    const botName = botNameOf(fileName.toString());
    if (botName !== undefined) this.debounce(botName, () => this.options.onChange(botName));
  }

  private debounce(key: string, fire: () => void): void {
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      if (!this.closed) fire();
    }, this.options.debounceMs);
    timer.unref();
    this.timers.set(key, timer);
  }
}
