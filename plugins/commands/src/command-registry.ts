import type { BridgeApi, HandlerResult, MessageContext } from '@botbridge/sdk';
import type { ParameterSpec, ParameterValue } from './param-parser.js';

/** What a command's `run` receives once parsing, validation and the admin check passed. */
export interface CommandInvocation {
  readonly ctx: MessageContext;
  /** The bridge as plugins may steer it (clients, approvals, proactive sends). */
  readonly bridge: BridgeApi;
  /** The full trigger as matched, e.g. `# echo`. */
  readonly trigger: string;
  /** The text after the trigger without its parameters, trimmed. */
  readonly prompt: string;
  /** Declared parameters, converted, clamped, defaults applied. */
  readonly params: Readonly<Record<string, ParameterValue>>;
}

/** A chat command such as `# echo`. */
export interface CommandDefinition {
  /** Stable id, used by the `enabled` config list (`echo`, `client_info`, ...). */
  readonly name: string;
  /** The words after the prefix, e.g. `echo` or `reload bots-config`. Case-sensitive. */
  readonly trigger: string;
  readonly description: string;
  readonly adminOnly?: boolean;
  /** An empty prompt is answered with `사용법: {trigger} {내용}` before `run`. */
  readonly promptRequired?: boolean;
  readonly parameters?: readonly ParameterSpec[];
  /** Returning undefined counts as handled with no reply (a command never falls through). */
  run(invocation: CommandInvocation): Promise<HandlerResult> | HandlerResult;
}

export interface CommandMatch {
  readonly command: CommandDefinition;
  readonly trigger: string;
  /** Everything after the trigger, untrimmed, parameters included. */
  readonly rest: string;
}

/** Gives a command definition its type without widening it. */
export function defineCommand(command: CommandDefinition): CommandDefinition {
  return command;
}

/**
 * The commands of one prefix, matched in registration order: the first trigger the text starts
 * with wins. Unlike the old server (plain `startswith`, so `# echoX` ran `# echo`), a trigger
 * must be followed by whitespace or the end of the text.
 */
export class CommandRegistry {
  private readonly commands: CommandDefinition[] = [];
  /** `triggerOf` of each command, in the same order: match runs for every message, the texts are built once. */
  private readonly triggers: string[] = [];

  constructor(readonly prefix: string) {
    if (prefix.length === 0) throw new Error('command prefix must not be empty');
  }

  /** Adds a command; a second command with the same name or trigger is a programming error. */
  register(command: CommandDefinition): this {
    const clash = this.commands.find((known) => known.name === command.name || known.trigger === command.trigger);
    if (clash !== undefined) throw new Error(`command '${command.name}' clashes with '${clash.name}' (name or trigger)`);
    if (command.trigger.trim() !== command.trigger || command.trigger.length === 0) {
      throw new Error(`command '${command.name}' has an empty or padded trigger`);
    }
    this.commands.push(command);
    this.triggers.push(this.triggerOf(command));
    return this;
  }

  /** Removes a command registered before; false when it was not (a disposer called twice). */
  unregister(command: CommandDefinition): boolean {
    const index = this.commands.indexOf(command);
    if (index < 0) return false;
    this.commands.splice(index, 1);
    this.triggers.splice(index, 1);
    return true;
  }

  list(): readonly CommandDefinition[] {
    return this.commands;
  }

  /** The full trigger text of a command, e.g. `# echo` for prefix `#`. */
  triggerOf(command: CommandDefinition): string {
    return `${this.prefix} ${command.trigger}`;
  }

  /** The command `text` invokes, or undefined when it is not a command of this registry. */
  match(text: string): CommandMatch | undefined {
    if (!text.startsWith(this.prefix)) return undefined;
    for (let i = 0; i < this.commands.length; i += 1) {
      const trigger = this.triggers[i]!;
      if (!text.startsWith(trigger)) continue;
      const rest = text.slice(trigger.length);
      if (rest.length > 0 && !/^\s/.test(rest)) continue;
      return { command: this.commands[i]!, trigger, rest };
    }
    return undefined;
  }
}
