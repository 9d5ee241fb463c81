import { mediaBase64, text, z } from '@botbridge/sdk';
import { defineBuiltin } from '../builtin-command.js';
import { defineCommand, type CommandDefinition } from '../command-registry.js';
import { backgroundColourAt, renderTextImage } from '../image/text-image.js';

export interface ImgextOptions {
  /** Width and height of every image in pixels. */
  readonly size: number;
  /** `--media-wait-time` is clamped into [minWaitMs, maxWaitMs], silently (old server behaviour). */
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
}

/**
 * `# IMGEXT w1 w2 … [--media-wait-time=MS]`: one PNG per word, sent together as one
 * `IMAGE_BASE64:` reply (a multi-image share on the phone). Without the parameter the phone
 * uses its own wait (3–15 s for several files).
 */
export function createImgextCommand(options: ImgextOptions): CommandDefinition {
  return defineCommand({
    name: 'imgext',
    trigger: 'IMGEXT',
    description: '텍스트를 단어별로 이미지로 변환하여 멀티 이미지 전송',
    parameters: [
      {
        name: 'media-wait-time',
        type: 'int',
        optional: true,
        min: options.minWaitMs,
        max: options.maxWaitMs,
        description: '미디어 전송 후 대기시간 (밀리초)',
      },
    ],
    run({ ctx, trigger, prompt, params }) {
      const words = prompt.split(/\s+/).filter((word) => word.length > 0);
      if (words.length === 0) return text(`사용법: ${trigger} 1 2 3 (공백으로 구분된 값들)`);
      try {
        const images = words.map((word, i) => renderTextImage(word, backgroundColourAt(i), options.size).toString('base64'));
        const waitMs = params['media-wait-time'];
        return mediaBase64(images, waitMs === undefined ? {} : { waitMs: Number(waitMs) });
      } catch (error) {
        ctx.log.error({ err: error }, 'rendering IMGEXT images failed');
        return text(`❌ 멀티이미지 전송 실패: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  });
}

const waitMs = z.number().int().nonnegative();

export const imgextBuiltin = defineBuiltin({
  name: 'imgext',
  options: z
    .strictObject({
      /** Width and height of each image in pixels. */
      size: z.number().int().min(8).max(1000).default(100),
      minWaitMs: waitMs.default(1_000),
      maxWaitMs: waitMs.default(30_000),
    })
    .refine((imgext) => imgext.minWaitMs <= imgext.maxWaitMs, { message: 'minWaitMs must not exceed maxWaitMs' })
    .prefault({}),
  create: createImgextCommand,
});
