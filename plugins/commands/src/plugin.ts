import { definePlugin } from '@botbridge/sdk';
import { isAdmin } from './admin.js';
import { CommandRegistry, type CommandDefinition } from './command-registry.js';
import { createClientInfoCommand } from './commands/client-info.js';
import { createEchoCommand } from './commands/echo.js';
import { createImgextCommand } from './commands/imgext.js';
import { createReloadBotsConfigCommand } from './commands/reload-bots-config.js';
import { commandsBotConfigSchema, commandsConfigSchema, type CommandsConfig } from './config.js';
import { createCommandHandler } from './dispatch.js';

/** The built-in commands in the old server's matching order, filtered by `enabled`. */
export function createBuiltinCommands(config: CommandsConfig): CommandDefinition[] {
  const all = [
    createEchoCommand(config.echo),
    createClientInfoCommand(),
    createImgextCommand(config.imgext),
    createReloadBotsConfigCommand(),
  ];
  const enabled = config.enabled;
  return enabled === undefined ? all : all.filter((command) => (enabled as readonly string[]).includes(command.name));
}

/**
 * The Domaeka command set: `# echo`, `# client_info`, `# IMGEXT`, `# reload bots-config`.
 * A message that is no command passes on to later plugins; a command always ends the chain.
 * Which commands a bot answers and who administers it are per-bot settings, read per message
 * (their defaults are `enabled` and `admins` of this config).
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
    ctx.onMessage(
      createCommandHandler(registry, {
        bridge: ctx.bridge,
        isEnabled: (command, message) => (ctx.botConfig(message.botName).enabled as readonly string[]).includes(command.name),
        isAdmin: (message) => isAdmin({ [message.botName]: ctx.botConfig(message.botName).admins }, message),
      }),
    );
    ctx.log.debug({ commands: registry.list().map((command) => registry.triggerOf(command)) }, 'commands registered');
  },
});
