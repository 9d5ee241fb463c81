import { definePlugin, type ChatMessage } from '@botbridge/sdk';
import { isAdmin } from './admin.js';
import { BUILTIN_COMMANDS } from './builtins.js';
import { CommandRegistry, type CommandDefinition } from './command-registry.js';
import { commandsBotConfigSchema, commandsConfigSchema, type CommandsConfig } from './config.js';
import { createCommandHandler } from './dispatch.js';
import { commandServiceFor } from './service.js';

const BUILTIN_NAMES: ReadonlySet<string> = new Set(BUILTIN_COMMANDS.map((builtin) => builtin.name));

/** The built-in commands in the old server's matching order, filtered by `enabled`. */
export function createBuiltinCommands(config: CommandsConfig): CommandDefinition[] {
  const enabled = config.enabled as readonly string[] | undefined;
  return BUILTIN_COMMANDS.filter((builtin) => enabled === undefined || enabled.includes(builtin.name)).map((builtin) =>
    // Each built-in's options section is keyed by its name (see config.ts).
    (builtin.create as (options: unknown) => CommandDefinition)((config as Record<string, unknown>)[builtin.name]),
  );
}

/**
 * The Domaeka command set (`# echo`, `# client_info`, `# IMGEXT`, `# reload bots-config`) and the
 * `commands` service through which other plugins add theirs (`ctx.inject('commands').register`).
 * A message that is no command passes on to later plugins; a command always ends the chain.
 * Which built-ins a bot answers and who administers it are per-bot settings, read per message
 * (their defaults are `enabled` and `admins` of this config); the admins hold for every command.
 */
export const commands = definePlugin({
  name: 'commands',
  version: '0.1.0',
  config: commandsConfigSchema,
  botConfig: commandsBotConfigSchema,
  setup(ctx, config) {
    const registry = new CommandRegistry(config.prefix);
    // Every built-in is registered: a bot's settings may enable one that the global default leaves off.
    for (const command of createBuiltinCommands({ ...config, enabled: undefined })) registry.register(command);
    const admin = (message: Pick<ChatMessage, 'botName' | 'userHash' | 'channelId'>) =>
      isAdmin({ [message.botName]: ctx.botConfig(message.botName).admins }, message);
    ctx.provide('commands', (consumer) => commandServiceFor(registry, admin, consumer));
    ctx.onMessage(
      createCommandHandler(registry, {
        bridge: ctx.bridge,
        // `enabled` lists built-ins only: commands of other plugins are on wherever those plugins run.
        isEnabled: (command, message) =>
          !BUILTIN_NAMES.has(command.name) || (ctx.botConfig(message.botName).enabled as readonly string[]).includes(command.name),
        isAdmin: admin,
        unknownParameters: config.unknownParameters,
      }),
    );
    ctx.log.debug({ commands: registry.list().map((command) => registry.triggerOf(command)) }, 'commands registered');
  },
});
