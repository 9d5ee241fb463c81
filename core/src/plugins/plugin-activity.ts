import type { PluginErrorEvent } from '../hooks.js';

/** The last handler failure of a plugin, as the dashboard's plugins panel shows it. */
export interface PluginLastError {
  readonly hook: string;
  readonly code: string;
  readonly message: string;
  /** Epoch ms. */
  readonly at: number;
}

/** A plugin's counts since the bridge started (GET /api/plugins). */
export interface PluginActivitySnapshot {
  /** onMessage calls this plugin's handlers ran to the end without an error. */
  readonly messages: number;
  /** Replies it produced: returned from onMessage or sent with `ctx.reply`. */
  readonly replies: number;
  /** Handlers (any hook, timers and events included) that threw or missed their deadline. */
  readonly errors: number;
  readonly lastError: PluginLastError | null;
}

/**
 * Plain integer counts per plugin, kept by its context on the handler path itself: always
 * on, a few increments per message, no event built for them (the `plugin:handler` event is
 * built only while someone listens, which the dashboard cannot rely on).
 */
export class PluginActivity {
  private messages = 0;
  private replies = 0;
  private errors = 0;
  private lastError: PluginLastError | null = null;

  handled(): void {
    this.messages += 1;
  }

  replied(count: number): void {
    this.replies += count;
  }

  failed(event: PluginErrorEvent): void {
    this.errors += 1;
    this.lastError = { hook: event.hook, code: event.code, message: event.message, at: Date.now() };
  }

  snapshot(): PluginActivitySnapshot {
    return { messages: this.messages, replies: this.replies, errors: this.errors, lastError: this.lastError };
  }
}

/** How many replies an onMessage result carries (a string, a reply, several, or noReply()). */
export function countReplies(result: unknown): number {
  if (result === undefined || result === null) return 0;
  if (Array.isArray(result)) return result.length;
  if (typeof result === 'object' && (result as { kind?: unknown }).kind === 'none') return 0;
  return 1;
}
