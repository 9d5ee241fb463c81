/**
 * The files `botbridge create plugin <name>` writes: a plugin package that lives outside this
 * repository, with a zod config, a `# <name>` command, a test on the test kit and a README.
 * The botbridge packages are not on the npm registry, so the package depends on this
 * installation's copies by path (`file:`); `npm install` links them.
 */

export interface PluginTemplateInput {
  /** Plugin name as bridge.config.ts and the logs show it: lowercase letters, digits, dashes. */
  readonly name: string;
  /** Folders of this installation's @botbridge/sdk and @botbridge/testing. */
  readonly sdkDir: string;
  readonly testingDir: string;
  /** The vitest version botbridge itself tests with. */
  readonly vitestVersion: string;
}

/** `hello-world` → `helloWorld`: the export's identifier. */
export function identifierOf(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function packageNameOf(name: string): string {
  return `botbridge-plugin-${name}`;
}

/** Relative path → file content. */
export function pluginTemplate(input: PluginTemplateInput): Record<string, string> {
  const { name } = input;
  const id = identifierOf(name);
  const pkg = packageNameOf(name);
  return {
    'package.json': `${JSON.stringify({
      name: pkg,
      version: '0.1.0',
      type: 'module',
      description: `A botbridge plugin: answers # ${name}.`,
      // TypeScript sources run as they are: botbridge loads them through tsx.
      exports: { '.': './src/index.ts' },
      files: ['src'],
      scripts: { test: 'vitest run' },
      dependencies: { '@botbridge/sdk': `file:${input.sdkDir}` },
      devDependencies: { '@botbridge/testing': `file:${input.testingDir}`, vitest: input.vitestVersion },
    }, null, 2)}\n`,
    'src/config.ts': `import { z } from '@botbridge/sdk';

/** \`usePlugin(${id}, {...})\` in bridge.config.ts. Every key has a default; unknown keys are errors. */
export const ${id}ConfigSchema = z.strictObject({
  /** What \`# ${name}\` answers; \`{sender}\` becomes the sender's name. */
  answer: z.string().min(1).default('{sender}님, ${name} 플러그인입니다.'),
});

export type ${upper(id)}Config = z.output<typeof ${id}ConfigSchema>;
`,
    'src/index.ts': `import { definePlugin } from '@botbridge/sdk';
import { ${id}ConfigSchema } from './config.js';

export { ${id}ConfigSchema } from './config.js';
export type { ${upper(id)}Config } from './config.js';

const COMMAND = '# ${name}';

/** Answers \`${'#'} ${name}\`; every other line passes on to the plugins listed after it. */
export const ${id} = definePlugin({
  name: '${name}',
  version: '0.1.0',
  config: ${id}ConfigSchema,
  setup(ctx, config) {
    ctx.onMessage(({ message }) => {
      if (message.text.trim() !== COMMAND) return undefined;
      return config.answer.replaceAll('{sender}', message.sender);
    });
  },
});
`,
    [`test/${name}.test.ts`]: `import { afterEach, describe, expect, it } from 'vitest';
import { usePlugin } from '@botbridge/sdk';
import { createTestBridge, type TestBridge } from '@botbridge/testing';
import { ${id} } from '../src/index.js';

let t: TestBridge | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('${name}', () => {
  it('answers # ${name} and lets other lines pass', async () => {
    t = await createTestBridge({ plugins: [${id}] });
    const phone = await t.client();
    await phone.shouldReply({ text: '# ${name}', sender: '철수' }, '철수님, ${name} 플러그인입니다.');
    await phone.shouldNotReply('hello');
  });

  it('takes its answer from its config, and refuses an unknown key', async () => {
    t = await createTestBridge({ plugins: [usePlugin(${id}, { answer: 'hi {sender}' })] });
    const phone = await t.client();
    await phone.shouldReply({ text: '# ${name}', sender: '영희' }, 'hi 영희');
    await expect(createTestBridge({ plugins: [usePlugin(${id}, { answr: 'x' } as never)] })).rejects.toThrow('did you mean "answer"');
  });
});
`,
    'README.md': `# ${pkg}

A botbridge plugin: \`# ${name}\` answers with a configurable text.

## Use it

In the folder of your \`bridge.config.ts\`:

\`\`\`sh
npm install /path/to/${pkg}      # or the published package name, once published
\`\`\`

\`\`\`ts
// bridge.config.ts
import { defineConfig, usePlugin } from '@botbridge/sdk';
import { ${id} } from '${pkg}';

export default defineConfig({
  plugins: [usePlugin(${id}, { answer: '{sender}님, 안녕하세요' })],
});
\`\`\`

A path works as well: \`import { ${id} } from './plugins/${pkg}/src/index.ts'\`. Packages
resolve from the config file's folder, so \`@botbridge/sdk\` must be installed there too.

## Config

| key | default | what it does |
|---|---|---|
| \`answer\` | \`{sender}님, ${name} 플러그인입니다.\` | what \`# ${name}\` answers; \`{sender}\` is the sender's name |

## Develop

\`\`\`sh
npm install
npm test        # a real bridge on a free port and a fake phone (@botbridge/testing)
\`\`\`

## Publish

Set \`version\`, move \`@botbridge/sdk\` to \`peerDependencies\` (the operator's botbridge provides
it), replace the \`file:\` paths of \`@botbridge/sdk\` / \`@botbridge/testing\` with version ranges
once those are on your registry, then \`npm publish\` (docs/plugins.md, "Publish a plugin"). The
package ships its TypeScript sources (\`src/\`); botbridge loads them through tsx, so there is no
build step.
`,
  };
}

function upper(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
