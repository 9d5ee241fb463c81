import type { ChatMessage, Disposer, ServiceConsumer } from '@botbridge/sdk';
import type { CommandDefinition, CommandRegistry } from './command-registry.js';

/**
 * The `commands` service (`ctx.inject('commands')`): any plugin adds `{prefix} {trigger}` commands
 * to the one registry, with the one `--name=value` parser and the one admin check (the bot's
 * admins in this plugin's per-bot settings), koishi `ctx.command` style.
 */
export interface CommandService {
  /** The prefix every command shares, e.g. `#`. */
  readonly prefix: string;
  /**
   * Adds a command after those registered before it (the first matching trigger wins). A name or
   * trigger already taken throws. Removed by the returned disposer, or when the registering plugin stops.
   */
  register(command: CommandDefinition): Disposer;
  /** Whether the sender administers the message's bot in its room (what `adminOnly` checks). */
  isAdmin(message: Pick<ChatMessage, 'botName' | 'userHash' | 'channelId'>): boolean;
  /** The commands now registered, in matching order. */
  list(): readonly CommandDefinition[];
}

declare module '@botbridge/sdk' {
  interface BridgeServices {
    commands: CommandService;
  }
}

/** The view of the service one consuming plugin gets: its registrations end with it. */
export function commandServiceFor(
  registry: CommandRegistry,
  isAdmin: CommandService['isAdmin'],
  consumer: ServiceConsumer,
): CommandService {
  return {
    prefix: registry.prefix,
    register(command) {
      registry.register(command);
      let registered = true;
      const dispose = () => {
        if (!registered) return;
        registered = false;
        registry.unregister(command);
      };
      consumer.effect(dispose);
      consumer.log.debug({ command: registry.triggerOf(command) }, 'command registered');
      return dispose;
    },
    isAdmin,
    list: () => registry.list(),
  };
}
