import { noReply, text, texts, z } from '@botbridge/sdk';
import { defineBuiltin } from '../builtin-command.js';
import { defineCommand, type CommandDefinition } from '../command-registry.js';

export interface EchoOptions {
  /** Replies beyond this many are cut, with a warning first. */
  readonly maxRepeat: number;
}

/**
 * `# echo <text> [--repeat=N]`: `에코: <text>`, or N numbered replies sent in order (the core
 * spaces several replies of one message by pipeline.replyGapMs). The counter shows the number
 * actually sent, so `--repeat=7` gives `[1/5]` … `[5/5]`.
 */
export function createEchoCommand(options: EchoOptions): CommandDefinition {
  const { maxRepeat } = options;
  return defineCommand({
    name: 'echo',
    trigger: 'echo',
    description: '에코 테스트 명령어',
    promptRequired: true,
    parameters: [
      { name: 'repeat', type: 'int', optional: true, default: 1, description: `반복 횟수 (기본값: 1, 최대: ${maxRepeat})` },
    ],
    run({ prompt, params }) {
      const requested = Number(params['repeat'] ?? 1);
      if (requested <= 0) return noReply();
      if (requested === 1) return text(`에코: ${prompt}`);
      const count = Math.min(requested, maxRepeat);
      const echoes = Array.from({ length: count }, (_, i) => `[${i + 1}/${count}] 에코: ${prompt}`);
      return requested > maxRepeat ? texts([`⚠️ 반복 횟수는 최대 ${maxRepeat}회로 제한됩니다.`, ...echoes]) : texts(echoes);
    },
  });
}

export const echoBuiltin = defineBuiltin({
  name: 'echo',
  options: z.strictObject({ maxRepeat: z.number().int().positive().default(5) }).prefault({}),
  create: createEchoCommand,
});
