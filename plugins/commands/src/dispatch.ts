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
  /**
   * A parameter the command does not declare (`--side=3` for `--sides`): `ignore` runs the
   * command without it (the old server's behaviour, and the default here), `hint` answers with
   * the parameters the command takes and does not run it (the commands plugin's default).
   */
  readonly unknownParameters?: 'ignore' | 'hint';
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
    if (validation.unknown.length > 0) {
      if (options.unknownParameters === 'hint') return text(unknownParametersHint(validation.unknown, specs));
      commandLog(ctx, command.name).debug({ unknown: validation.unknown }, 'unknown command parameters ignored');
    }
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

/**
 * The chat user's answer to `--side=3`: what is unknown, the likely meant name, and what the
 * command takes: `❌ 알 수 없는 파라미터: --side (혹시 --sides?) · 사용할 수 있는 파라미터: --sides, --channel-id`.
 */
export function unknownParametersHint(unknown: readonly string[], specs: readonly ParameterSpec[]): string {
  const names = specs.map((spec) => spec.name);
  const parts = unknown.map((name) => {
    const near = nearestName(name, names);
    return near === undefined ? `--${name}` : `--${name} (혹시 --${near}?)`;
  });
  return `❌ 알 수 없는 파라미터: ${parts.join(', ')} · 사용할 수 있는 파라미터: ${names.map((n) => `--${n}`).join(', ')}`;
}

/** The declared name within a third of the typed one's length in edits (a typo), if any. */
function nearestName(typed: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(typed.toLowerCase(), name.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  return best !== undefined && best.distance <= Math.max(1, Math.floor(typed.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}
