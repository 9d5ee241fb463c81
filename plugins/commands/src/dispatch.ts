import { noReply, text, type BridgeApi, type ChatMessage, type HandlerResult, type Logger, type MessageContext } from '@botbridge/sdk';
import type { CommandDefinition, CommandRegistry } from './command-registry.js';
import { splitParameters, validateParameters, type ParameterSpec } from './param-parser.js';

/** Refusal text of the older Domaeka server (the newer one had a TODO in its place). */
export const ADMIN_ONLY_TEXT = '[ERROR] 관리자 전용 명령입니다.';

/**
 * Every command understands `--channel-id`: a command addressed to another room is ignored
 * silently, so one message can be pasted in several rooms and run in only one.
 */
export const CHANNEL_ID_PARAMETER: ParameterSpec = {
  name: 'channel-id',
  type: 'string',
  optional: true,
  description: '이 채널 ID의 방에서만 실행',
};

export interface CommandHandlerOptions {
  /** Usually the plugin context's `ctx.bridge`. */
  readonly bridge: BridgeApi;
  /** Whether the sender of this message may run admin-only commands. */
  readonly isAdmin: (message: ChatMessage) => boolean;
  /** Whether the message's bot answers this command (per-bot settings); all when absent. */
  readonly isEnabled?: (command: CommandDefinition, message: ChatMessage) => boolean;
}

/**
 * An onMessage handler for the commands of `registry`. It returns undefined for a message that is
 * no command (so later plugins may answer it) and always a result for one that is.
 * Order (old server's): parameters → validation → channel restriction → admin → prompt → run.
 */
export function createCommandHandler(
  registry: CommandRegistry,
  options: CommandHandlerOptions,
): (ctx: MessageContext) => Promise<HandlerResult> {
  return async (ctx) => {
    const matched = registry.match(ctx.message.text);
    if (matched === undefined) return undefined;
    const { command, trigger } = matched;
    if (options.isEnabled !== undefined && !options.isEnabled(command, ctx.message)) return undefined;
    // The child logger is made on use only (most commands never log); a module function, not a
    // closure per message (tsx's keepNames names each one: a defineProperty per message).

    const { prompt, raw } = splitParameters(matched.rest);
    const specs = withChannelId(command.parameters ?? NO_PARAMETERS);
    const validation = validateParameters(raw, specs);
    if (!validation.ok) return text(`❌ 파라미터 오류: ${validation.error}`);
    if (validation.unknown.length > 0) commandLog(ctx, command.name).debug({ unknown: validation.unknown }, 'unknown command parameters ignored');
    if (validation.clamped.length > 0) commandLog(ctx, command.name).debug({ clamped: validation.clamped }, 'command parameters clamped');

    const channelId = validation.values['channel-id'];
    if (channelId !== undefined && String(channelId) !== ctx.message.channelId) {
      commandLog(ctx, command.name).debug({ target: channelId, current: ctx.message.channelId }, 'command addressed to another channel ignored');
      return noReply();
    }
    if (command.adminOnly === true && !options.isAdmin(ctx.message)) {
      commandLog(ctx, command.name).info({ userHash: ctx.message.userHash }, 'admin-only command refused');
      return text(ADMIN_ONLY_TEXT);
    }
    if (command.promptRequired === true && prompt.length === 0) return text(`사용법: ${trigger} {내용}`);

    try {
      const result = await command.run({ ctx, bridge: options.bridge, trigger, prompt, params: validation.values });
      return result ?? noReply();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      commandLog(ctx, command.name).error({ err: error }, 'command failed');
      return text(`명령어 처리 중 오류가 발생했습니다: ${message}`);
    }
  };
}

function commandLog(ctx: MessageContext, name: string): Logger {
  return ctx.log.child({ command: name });
}

/** Per parameter list (commands are defined once): not a new array for every message. */
const withChannelIdCache = new WeakMap<readonly ParameterSpec[], readonly ParameterSpec[]>();
const NO_PARAMETERS: readonly ParameterSpec[] = [];

function withChannelId(specs: readonly ParameterSpec[]): readonly ParameterSpec[] {
  let all = withChannelIdCache.get(specs);
  if (all === undefined) {
    all = specs.some((spec) => spec.name === CHANNEL_ID_PARAMETER.name) ? specs : [...specs, CHANNEL_ID_PARAMETER];
    withChannelIdCache.set(specs, all);
  }
  return all;
}
