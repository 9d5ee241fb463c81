import type { LogCategory } from '@botbridge/sdk';
import type { CoreLogger } from './logger.js';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * Loggers per category (connection, handshake, message, reply, ping, queue, store and
 * `plugin:<name>`), as the Kkobot server had them: pino children of the root logger that carry
 * a `category` field and their own level from `log.categories` (the root level otherwise). A
 * child may be more verbose than the root (`ping: 'debug'` under `level: 'info'`) or quieter.
 * Each category's logger is built once and reused; modules get theirs at construction.
 */
export class LogCategories {
  private readonly loggers = new Map<string, CoreLogger>();

  constructor(
    readonly root: CoreLogger,
    private readonly levels: Readonly<Record<string, Level>> = {},
  ) {}

  get(category: LogCategory): CoreLogger {
    return this.of(category, { category });
  }

  /** A plugin's logger: category `plugin:<name>`, with the `plugin` field the other plugin logs carry. */
  plugin(name: string): CoreLogger {
    const category = `plugin:${name}`;
    return this.of(category, { category, plugin: name });
  }

  private of(category: string, bindings: Record<string, string>): CoreLogger {
    let log = this.loggers.get(category);
    if (log === undefined) {
      const level = this.levels[category];
      log = level === undefined ? this.root.child(bindings) : this.root.child(bindings, { level });
      this.loggers.set(category, log);
    }
    return log;
  }
}
